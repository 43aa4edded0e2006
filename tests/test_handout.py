"""helpers.course.handout without a browser: counting a PDF's pages, and bad arguments named.
(Printing the decks themselves is tests/test_browser.py's.)"""

import io

import pytest

from helpers.course.handout import main, pdf_page_count, print_handouts


@pytest.mark.parametrize("pages", [1, 3])
def test_a_pdfs_pages_are_counted_from_its_page_tree(pages):
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    with PdfPages(buffer) as pdf:
        for _ in range(pages):
            fig = plt.figure()
            pdf.savefig(fig)
            plt.close(fig)
    assert pdf_page_count(buffer.getvalue()) == pages
    assert pdf_page_count(b"not a pdf") == 0


def test_decks_that_are_not_decks_or_are_missing_are_named(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "01_x.slides.html").write_text("<html></html>")
    with pytest.raises(ValueError, match="at least one"):
        print_handouts([], tmp_path / "out")
    with pytest.raises(ValueError, match=r"\.slides\.html files \(make slides\), got .*01_x\.html"):
        print_handouts([tmp_path / "01_x.html"], tmp_path / "out")
    with pytest.raises(FileNotFoundError, match=r"02_y\.slides\.html"):
        print_handouts([tmp_path / "a" / "02_y.slides.html"], tmp_path / "out")
    with pytest.raises(ValueError, match="one folder"):
        print_handouts(
            [tmp_path / "a" / "01_x.slides.html", tmp_path / "b" / "01_x.slides.html"],
            tmp_path / "out",
        )
    with pytest.raises(FileNotFoundError, match="no browser at"):
        print_handouts(
            [tmp_path / "a" / "01_x.slides.html"], tmp_path / "out", chromium=tmp_path / "none"
        )


def test_the_command_names_a_missing_deck_without_a_traceback(tmp_path, capsys):
    assert main(["--out", str(tmp_path), str(tmp_path / "03_z.slides.html")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("✗ deck not found") and "Traceback" not in error
