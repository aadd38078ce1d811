"""A figure of several panels is also saved panel by panel, each cropped to its own labels (and its
colorbar), and a phone shows the panels one below the other instead of the whole figure shrunk."""

import shutil

import matplotlib.pyplot as plt
import numpy as np

from comparisons import plots
from comparisons.context import ConceptContext, RunOptions
from comparisons.site import build_site, png_size


def two_by_two():
    fig, axes = plots.grid(4, 2)
    for k, ax in enumerate(axes):
        ax.plot(np.arange(10), np.arange(10) * k)
        ax.set_title(f"panel {k + 1}")
    return fig


def test_every_panel_is_saved_on_its_own(tmp_path):
    saved = plots.save_panels(two_by_two(), tmp_path / "demo")
    assert [p.name for p in saved] == [f"demo.panel-{k}.png" for k in range(1, 5)]
    for path in saved:
        width, height = png_size(path)
        assert plots.PANEL_WIDTH_PX * 0.9 <= width <= 700 and height > 100, "each panel large enough to read"


def test_a_figure_of_one_panel_is_not_cut(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    assert plots.save_panels(fig, tmp_path / "one") == []
    assert list(tmp_path.iterdir()) == []


def test_a_colorbar_goes_with_its_panel(tmp_path):
    fig, axes = plt.subplots(1, 2)
    axes[0].imshow(np.eye(3))
    image = axes[1].imshow(np.eye(3))
    fig.colorbar(image, ax=axes[1])
    saved = plots.save_panels(fig, tmp_path / "bar")
    assert len(saved) == 2
    teal = np.array(plt.get_cmap("viridis")(0.5)[:3])  # in the colorbar's gradient, not in the images' 0 and 1

    def has_teal(path):
        pixels = plt.imread(path)[..., :3]
        return bool((np.abs(pixels - teal).max(axis=-1) < 0.05).any())

    assert has_teal(saved[1]) and not has_teal(saved[0]), "the colorbar goes with the second panel only"


def test_a_concept_s_figure_is_saved_whole_and_panel_by_panel(tmp_path):
    ctx = ConceptContext("demo", RunOptions(), "float64", tmp_path)
    ctx.figure("grid", two_by_two)
    assert ctx.figures == ["demo-grid.png"], "the panels are not figures of their own"
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == \
        ["demo-grid.panel-1.png", "demo-grid.panel-2.png", "demo-grid.panel-3.png", "demo-grid.panel-4.png", "demo-grid.png"]


def test_the_page_shows_the_panels_for_a_phone(small_report, tmp_path):
    """The small report's run saved the loss curves panel by panel; both editions show them all."""
    panels = sorted((small_report / "figures").glob("losses-loss-curves.panel-*.png"))
    assert len(panels) >= 2
    folder = tmp_path / "report"
    shutil.copytree(small_report, folder)
    build_site(folder)
    for page in ("concepts/losses.html", "ko/concepts/losses.html"):
        html = (folder / page).read_text(encoding="utf-8")
        figure = html[html.index('<figure id="figure-loss-curves"'):]
        figure = figure[:figure.index("</figure>")]
        assert 'class="has-panels"' in figure and '<div class="panels">' in figure
        assert [f"{p.name}" for p in panels] == sorted(set(re_panels(figure)))


def re_panels(html):
    import re

    return re.findall(r'src="[./]*figures/(losses-loss-curves\.panel-\d+\.png)"', html)


def test_the_stylesheet_shows_panels_only_on_a_phone():
    from comparisons.site import _HERE

    css = (_HERE / "style.css").read_text(encoding="utf-8")
    assert "figure .panels { display: none; }" in css
    phone = css[css.index("@media (max-width: 37.5rem)"):]
    assert "figure.has-panels .whole { display: none; }" in phone and "figure.has-panels .panels { display: block; }" in phone
