"""Device selection shared by every computation: ``device="auto"`` means CUDA when present, else CPU."""

import torch


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Return the torch device for ``device``; ``"auto"`` picks CUDA if available, else CPU."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)
