"""The left-side forms. Each is a QWidget with load(config), store(config), `changed` and show_problems(problems).

Importing this package stays light (no torch, transformers or datasets): heavy work runs in gui.background jobs.
"""

from finetune_studio.gui.forms.arguments_panel import ArgumentsPanel
from finetune_studio.gui.forms.dataset_form import DatasetForm
from finetune_studio.gui.forms.hub_form import HubForm
from finetune_studio.gui.forms.model_form import ModelForm
from finetune_studio.gui.forms.training_form import TrainingForm

__all__ = ["DatasetForm", "ModelForm", "TrainingForm", "ArgumentsPanel", "HubForm"]
