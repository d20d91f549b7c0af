"""What the chart area says while it has no loss to draw, in a module without pyqtgraph.

The window shows these in its placeholder before the chart is built (pyqtgraph comes after the training stack,
gui.main_window) and the built chart shows the empty text too (gui.chart), so the area says the same thing
whichever of the two is on screen, and never "loading" for something the user did not ask for."""

EMPTY = "Press Start: the loss appears here as the model trains."
STARTING = "Starting the run: the loss appears here from its first step."
WAITING = "The run's chart appears once the training libraries are loaded."
