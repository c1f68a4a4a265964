"""Adapters to outside platforms: one package per peer, each with a client and a sandbox peer.

Adapters never import the portal (``portal``): what they share is defined here, once.
"""

from zoneinfo import ZoneInfo

#: 北京时间: the platforms' protocol time. Their interface documents give timestamps as ISO 8601
#: with the +08:00 offset (China has no daylight saving).
BEIJING_TIME = ZoneInfo("Asia/Shanghai")
