"""Training workspace: zero-reference training and distillation that produce llie's shipped weights."""
