"""Metrics: classification (acc/F1/P/R, thresholds), regression (MSE, calibration, earliness), bias AUCs."""
