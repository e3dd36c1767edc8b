# Training runs, models and lineage arrive with the training backend (see DESIGN §5).
