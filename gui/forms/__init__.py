"""The left-side forms. Each is a QWidget with load(config), store(config), `changed` and show_problems(problems).

Importing this package stays light (no torch, transformers or datasets): heavy work runs in gui.background jobs.
"""

from gui.forms.arguments_panel import ArgumentsPanel
from gui.forms.dataset_form import DatasetForm
from gui.forms.hub_form import HubForm
from gui.forms.model_form import ModelForm
from gui.forms.training_form import TrainingForm

__all__ = ["DatasetForm", "ModelForm", "TrainingForm", "ArgumentsPanel", "HubForm"]
