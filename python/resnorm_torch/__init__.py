"""resnorm_torch: the PyTorch twin of ResNorm Playground's C++ core (model.py, data.py, train.py)."""
