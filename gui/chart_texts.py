"""What the chart area says while it has no loss to draw, in a module without pyqtgraph.

The window shows these in its placeholder before the chart is built (pyqtgraph comes after the training stack,
gui.main_window) and the built chart shows the empty text too (gui.chart), so the area says the same thing
whichever of the two is on screen, and never "loading" for something the user did not ask for."""

EMPTY = "Press Start: the loss appears here as the model trains."
STARTING = "Starting the run: the loss appears here from its first step."
WAITING = "The chart appears once the training libraries are loaded."  # of a run opened, or of runs compared
# A recorded run whose log has a learning rate or a gradient norm but no loss at all (hand-made, or cut down).
NO_LOSS = "This run logged no train or eval loss, only its learning rate or gradient norm: no loss curve to draw."
FIX_DIVERGED = "To fix: lower the learning rate (or raise the warmup) and start the run again."


def no_finite_loss(train: list[tuple[float, float]], evals: list[tuple[float, float]]) -> str:
    """What the loss plot says when every loss the run logged was NaN or infinite (a run that diverged before its
    first log): `train` and `evals` are the (step, value) pairs it could not draw."""
    said = [_not_drawn(name, points) for name, points in (("train loss", train), ("eval loss", evals)) if points]
    return f"Nothing to draw: {'; '.join(said)}. The run diverged. {FIX_DIVERGED}"


def _not_drawn(name: str, points: list[tuple[float, float]]) -> str:
    kinds = _kinds(points)
    if len(points) == 1:
        return f"the {name} logged at step {points[0][0]:g} was {kinds}"
    return (f"the {name} was {kinds} at each of the {len(points)} steps it was logged "
            f"(steps {points[0][0]:g} to {points[-1][0]:g})")


def legend_label(name: str, points: list[tuple[float, float]], below_zero: int = 0) -> str:
    """A loss's entry in the legend: its name, the logged (step, value) `points` not drawn (NaN or infinite), and
    in log scale how many of the drawn ones are at 0 or below (no logarithm), so a curve that stops short of the
    run's last step, has a gap, or is not there at all says why."""
    notes = []  # short: the legend gives way to the curves past 3/4 of the plot's width (gui.chart)
    if points:
        where = f"step {points[0][0]:g}" if len(points) == 1 else f"{len(points)} steps"
        notes.append(f"{where} not drawn: {_kinds(points)}")
    if below_zero:
        notes.append(f"{below_zero} step{'' if below_zero == 1 else 's'} at or below 0, not drawn in log scale")
    return f"{name} ({'; '.join(notes)})" if notes else name


def _kinds(points: list[tuple[float, float]]) -> str:
    return " or ".join(sorted({"NaN" if value != value else "infinite" for _, value in points}))
