"""Training of the plate reader and detector: models, data, trainers."""
