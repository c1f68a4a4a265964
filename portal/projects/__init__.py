"""按项目参保: construction projects insured per project by their general contractor before work
starts (先参保、后开工, 皖人社发〔2023〕21号 三(一)1), and their real-name site rosters (实名制花名册)."""
