"""The sync engine: read both sides, plan (pure), then carry the plan out."""
