"""工伤认定 (work-injury recognition): filing, acceptance, supplement, suspension, investigation, decision, delivery."""
