"""Operations (运行维护): health check, metrics, and the system self-check (系统自检) with its job runs."""
