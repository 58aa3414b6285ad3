"""Blueprints: the model of funnels, stages, fields and automation, its loader and lint."""
