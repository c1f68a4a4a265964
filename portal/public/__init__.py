"""Public pages (公共服务): the portal's home, the service catalogue (办事指南) and the large-text preference."""
