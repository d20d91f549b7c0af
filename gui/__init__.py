"""Finetune Studio's Qt skin over the Qt-free core.

Importing this package imports nothing: `finetune-studio train` goes through gui.launcher without loading Qt.
"""
