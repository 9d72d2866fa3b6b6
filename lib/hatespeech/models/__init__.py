"""Backbones, the prefix classifier (anticipation) and DualHeadBert."""
