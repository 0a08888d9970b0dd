"""The generic profile takes every link of the article itself — in its paragraphs, a list of
its sources, a short paragraph of links, a caption — and none of the page's navigation, related
articles, tool bars or footer. Golden snippets in the shapes news pages take (rules measured on
L3S-GN1 and kept from lowering WCXB; see docs/extract.md)."""

from __future__ import annotations

from lxml import html as lxml_html

from archiver.extract.extractor import extract
from archiver.extract.profiles import region

URL = "https://town.test/2008/01/10/bridge"
PROSE = (
    "The council voted on Tuesday to close the old bridge for repairs, after engineers found "
    "cracks in two of its supporting piers during a routine inspection last month. "
)


def _page(story_end: str = "", after_story: str = "") -> str:
    paragraphs = "".join(
        f"<p>{PROSE}Paragraph {i} adds more detail about the works and what they cost.</p>"
        for i in range(5)
    )
    return (
        "<html><head><title>Bridge closes | Town News</title></head><body>"
        "<div id='top'><ul class='menu'><li><a href='/'>Home</a></li>"
        "<li><a href='/local'>Local</a></li><li><a href='/sport'>Sport</a></li></ul></div>"
        f"<div id='main'><div class='story'><h1>Bridge closes</h1>{paragraphs}{story_end}</div>"
        f"{after_story}</div>"
        "<div id='side'><h3>Most read</h3><ul>"
        "<li><a href='/2008/01/09/fire'>Fire destroys barn near the river</a></li>"
        "<li><a href='/2008/01/08/vote'>Vote on school budget delayed again</a></li></ul></div>"
        "<div id='foot'><p>&copy; 2008 Town News. <a href='/about'>About us</a> "
        "<a href='/contact'>Contact</a></p></div></body></html>"
    )


BOILERPLATE = [
    "https://town.test/local",
    "https://town.test/2008/01/09/fire",
    "https://town.test/2008/01/08/vote",
    "https://town.test/about",
]


def _urls(html: str) -> list[str]:
    urls = [link.url for link in extract(html, url=URL).links]
    for url in BOILERPLATE:
        assert url not in urls, url
    return urls


def test_article_ending_in_a_list_of_sources_yields_every_one() -> None:
    """A bare <ul> of sources closes the story; one item is the site's own earlier story,
    which counts because the list cites other sites too (a list of sources, not related links)."""
    urls = _urls(
        _page(
            "<ul><li><a href='https://council.test/minutes.pdf'>Council minutes, 8 January</a>"
            "</li><li><a href='https://eng.test/inspection'>Inspection report</a></li>"
            "<li><a href='/2007/12/01/bridge-cracks'>Our earlier story on the cracks</a></li></ul>"
        )
    )
    assert urls == [
        "https://council.test/minutes.pdf",
        "https://eng.test/inspection",
        "https://town.test/2007/12/01/bridge-cracks",
    ]


def test_a_list_of_the_sites_own_stories_is_related_articles() -> None:
    urls = _urls(
        _page(
            "<ul><li><a href='/2008/01/01/roads'>Roads to close in winter</a></li>"
            "<li><a href='/2008/01/02/ferry'>Ferry service resumes</a></li></ul>"
        )
    )
    assert urls == []


def test_sources_kept_beside_the_story_under_their_heading() -> None:
    """<div class=story>...</div><div><h3>Sources</h3><ul>: outside the article's container,
    announced by its heading right after the text."""
    sources = (
        "<div class='box'><h3>Sources</h3><ul>"
        "<li><a href='https://council.test/minutes.pdf'>Council minutes</a></li>"
        "<li><a href='https://eng.test/inspection'>Inspection report</a></li></ul></div>"
    )
    assert _urls(_page(after_story=sources)) == [
        "https://council.test/minutes.pdf",
        "https://eng.test/inspection",
    ]
    related = sources.replace("Sources", "Related stories").replace("https://", "https://x")
    assert _urls(_page(after_story=related)) == []
    unannounced = sources.replace("<h3>Sources</h3>", "")
    assert _urls(_page(after_story=unannounced)) == []


def test_link_dense_short_paragraph_inside_the_text() -> None:
    urls = _urls(
        _page(
            "<p><a href='https://council.test/vote'>The vote</a> | "
            f"<a href='https://eng.test/findings'>The findings</a></p><p>{PROSE * 2}</p>"
        )
    )
    assert urls == ["https://council.test/vote", "https://eng.test/findings"]


def test_the_sites_own_document_is_a_source_its_own_page_is_related() -> None:
    """A one-link line after the text: the report the site hosts is cited; a link to another
    of its pages, alone in its line, is a related article."""
    urls = _urls(
        _page(
            "<p><a href='/files/inspection-2008.pdf'>Read the full inspection report (PDF)</a>"
            "</p><p><a href='/2008/01/01/roads'>Roads to close in winter</a></p>"
        )
    )
    assert urls == ["https://town.test/files/inspection-2008.pdf"]


def test_caption_link_is_the_articles_its_credit_is_not() -> None:
    caption = (
        "<figure><img src='bridge.jpg'><figcaption>The bridge in a "
        "<a href='https://archive.test/photo/1'>1920 photograph</a> from the town archive. "
        "<span>Photo: <a href='https://agency.test/jane-doe'>Jane Doe/Agency</a></span>"
        f"</figcaption></figure><p>{PROSE}</p>"
    )
    assert _urls(_page(caption)) == ["https://archive.test/photo/1"]


def test_share_bar_of_the_story_is_not_a_list_of_sources() -> None:
    """Share buttons link to other sites but carry this page's address in their query."""
    tools = (
        "<ul><li><a href='/print/bridge'>Printable version</a></li><li>Share<ul>"
        "<li><a href='https://digg.test/submit?url=https://town.test/2008/01/10/bridge'>Digg"
        "</a></li><li><a href='https://fark.test/farkit?u=https://town.test/2008/01/10/bridge'>"
        "Fark</a></li></ul></li><li><a href='/reprints/'>Reprints</a></li></ul>"
    )
    assert _urls(_page(tools)) == []


def test_paragraph_link_not_the_sidebar_anchor_with_the_same_words() -> None:
    """Unclosed <P>s in a layout cell that also holds a glossary (an L3S-GN1 page's shape):
    trafilatura's paragraph is found only inside the whole cell, where "Fibre Channel" is
    twice, with different targets; the paragraph's link is the one where its words run."""
    glossary = (
        "<table><tr><td><font size='-1'>"
        "<a href='https://terms.test/F/fibre_channel.html'>Fibre Channel</a><br><br>"
        "<a href='https://terms.test/R/raid.html'>RAID</a><br><br></font></td></tr></table>"
    )
    html = (
        "<html><head><title>Array ships</title></head><body><table><tr>"
        f"<td>{glossary}<p><p><font size='+1'><b>Array ships</b></font><br>January 8, 2008<br>"
        "<p><font size='-1'><P>Storage demands are growing faster than you can say terabytes, "
        "and a server is not simply a physical box any more.<P>The new array supports either "
        "<A href='https://terms.test/i/iSCSI.html'>iSCSI</A> or "
        "<A href='https://terms.test/F/Fibre_Channel.html'>Fibre Channel</A> networks and can "
        "scale to sixty terabytes in one cabinet.<P>According to the maker, the system can "
        "store and protect data from up to sixty-four hosts at the same time.<P>Prices start "
        "at under nine thousand dollars for a starter configuration with a year of support."
        "</font></td></tr></table></body></html>"
    )
    urls = [link.url for link in extract(html, url=URL).links]
    assert urls == ["https://terms.test/i/iSCSI.html", "https://terms.test/F/Fibre_Channel.html"]


def test_anchors_within_finds_the_anchors_where_the_text_runs() -> None:
    holder = lxml_html.fromstring(
        "<div><a href='/side'>Fibre Channel</a> menu <p>It runs on "
        "<a href='/body'>Fibre Channel</a> links.</p> tail <a href='/after'>more</a></div>"
    )
    found = region.anchors_within(holder, "It runs on Fibre Channel links.")
    assert found is not None
    assert [a.get("href") for a in found] == ["/body"]
    assert region.anchors_within(holder, "words that are not there") is None
    cache: dict[int, region.Folded] = {}
    for text, href in (("It runs on Fibre Channel links.", "/body"), ("tail more", "/after")):
        placed = region.anchors_within(holder, text, cache)
        assert placed is not None and [a.get("href") for a in placed] == [href]
    assert list(cache) == [id(holder)]  # the holder folded once for both paragraphs
