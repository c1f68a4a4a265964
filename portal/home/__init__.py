"""Role home pages (我的首页 / 单位首页 / 工作台): what each role can do here, and what comes later."""
