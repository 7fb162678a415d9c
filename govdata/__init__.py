"""Framework-free core of GovData Exchange: policy evaluation, masking, validation, audit chain,
connectors. Nothing here imports Django."""
