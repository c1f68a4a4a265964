"""单位参保登记与人员增减: employers enroll their unit and its insured persons, city clerks review."""
