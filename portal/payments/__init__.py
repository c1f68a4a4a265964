"""缴费: bills (缴费单) and their payment through the tax collection platform (社保费征收)."""
