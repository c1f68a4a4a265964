"""发件箱 (transactional outbox) and reporting of service items (办件) to the provincial government-service platform (一网通办)."""
