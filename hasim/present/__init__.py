"""Presentation: text formatting, matplotlib plots, HTML reports."""
