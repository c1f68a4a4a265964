"""收件箱 (one inbox per person and per employer): notices, requests for material, decisions, messages."""
