# ruff: noqa: E501  (HTML literals of the pages read better unwrapped)
"""The Moscow Times in every form: the old design, live blogs, AMP images, infinite scroll.

The old-design page is written here from the facts of ``shared/reference/moscowtimes-anatomy.md``
(a real 2014 page's roles): what a reader sees is the expectation, stated independently.
"""

from __future__ import annotations

from pathlib import Path

from archiver.extract.extractor import extract

TESTS = Path(__file__).parent.parent
SEED_PAGE = TESTS / "web" / "pages" / "mt-a57583.html"

BODY = [
    "MOSCOW\xa0— The Kremlin said on Monday that the talks would go on.",
    "A spokesman declined to say when the next round would be held.",
    "The statement followed a week of\xa0tense exchanges between the two sides.",
    "Officials in both capitals played down the chances of a deal.",
    "See the <a href='/news/earlier-talks/492001.html'>earlier talks</a> for background.",
    "Analysts said the delay was expected.",
    "Markets reacted calmly to the news.",
    "The next meeting is expected in February.",
]


def old_design_page(*, author: str = "RIA Novosti", credit: str = "Flickr") -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in BODY)
    return f"""<!DOCTYPE html><html><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta http-equiv="Last-Modified" content="Tue, 23 May 2017 10:00:00 GMT">
<title>Kremlin Says Talks Will Go On | News | The Moscow Times</title>
<meta property="og:title" content="Kremlin Says Talks Will Go On | News">
</head><body>
<div class="header"><a href="/">The Moscow Times</a><ul class="menu"><li><a href="/news/">News</a></li></ul></div>
<div class="article_wrap"><article>
<h2>Kremlin Says Talks Will Go On</h2>
<ul class="news_article_info"><li>{author}</li><li>Jan. 14 2014 00:00</li><li>Last edited 09:21</li></ul>
<div class="article_main_img"><img src="/upload/iblock/talks.jpg"></div>
<div class="article_img_note"><span class="article_img_author">{credit}</span>
<span class="article_img_description">Delegates arrive for the talks.</span></div>
<div class="article_text">{paragraphs}</div>
</article></div>
<div class="related"><p>Related: other stories you may like, and many more of them here.</p>
<p><a href="/news/other/1.html">Another story</a></p></div>
<div class="comments"><p>Comment one by a reader who has many opinions to share.</p>
<p>Comment two by another reader.</p></div>
<div class="footer"><p>© The Moscow Times 2014</p></div>
</body></html>""".encode()


URL = "http://www.themoscowtimes.com/news/article/kremlin-says-talks-will-go-on/492500.html"


def test_old_design_headline_dateline_caption_credits_body() -> None:
    doc = extract(old_design_page(), url=URL)
    assert doc.profile == "moscowtimes"
    assert doc.title == "Kremlin Says Talks Will Go On"
    assert doc.published == "2014-01-14"  # the dateline, never the Last-Modified of 2017
    assert doc.published_source == "dateline"
    assert doc.authors == ()  # a news agency is the source, not a person; "Flickr" is a credit
    assert len(doc.paragraphs) == 8
    assert doc.paragraphs[0].startswith("MOSCOW — The Kremlin")
    assert "\xa0" not in doc.text
    assert doc.images[0].caption == "Delegates arrive for the talks."
    assert doc.images[0].credits == "Flickr"
    assert doc.images[0].url == "http://www.themoscowtimes.com/upload/iblock/talks.jpg"
    assert [link.url for link in doc.links] == [
        "http://www.themoscowtimes.com/news/earlier-talks/492001.html"
    ]
    assert "Comment" not in doc.text and "Related" not in doc.text


def test_old_design_author_is_a_person_and_saved_file_is_the_site() -> None:
    doc = extract(old_design_page(author="By Ivan Petrov"))  # a saved file: no URL at all
    assert doc.profile == "moscowtimes"
    assert doc.authors == ("Ivan Petrov",)
    assert doc.published == "2014-01-14"


def test_old_design_replayed_by_the_wayback_machine() -> None:
    ts = "https://web.archive.org/web/20140115000000/"
    page = old_design_page().replace(
        b"href='/news/", f"href='/web/20140115000000/{URL.rsplit('/news/', 1)[0]}/news/".encode()
    )
    page = page.replace(
        b"<body>",
        b'<body><div id="wm-ipp-base"><p>Wayback toolbar text that is long enough to be a paragraph.</p></div>',
    )
    doc = extract(page, url=ts + URL)
    assert doc.profile == "moscowtimes"
    assert doc.title == "Kremlin Says Talks Will Go On"
    assert doc.links[0].url == "http://www.themoscowtimes.com/news/earlier-talks/492001.html"
    assert "Wayback" not in doc.text


def test_infinite_scroll_second_article_is_never_part_of_the_first() -> None:
    seed = SEED_PAGE.read_text(encoding="utf-8")
    alone = extract(seed.encode())
    start = seed.index('<article class="article')
    end = seed.index("</article>", start) + len("</article>")
    second = seed[start:end].replace("Bulgaria", "Ruritania")
    both = seed.replace("</body>", f'<div id="load-next-article">{second}</div></body>')
    doc = extract(both.encode())
    assert doc.paragraphs == alone.paragraphs
    assert doc.links == alone.links


def test_live_blog_posts_are_the_body() -> None:
    page = """<html><head><link rel="canonical" href="https://www.themoscowtimes.com/2022/02/24/live-a76543">
</head><body><article class="article article--news"><header class="article__header"><h1>Live: Day One</h1></header>
<div class="live-intro"><p>Follow our coverage as events unfold.</p></div>
<div class="live-posts">
<div class="live-post"><time class="live-post__date" datetime="2022-02-24T10:00:00+03:00">10:00</time>
<div class="live-post__body"><div class="article__block article__block--html"><p>First post with <a href="https://example.org/src">a source</a>.</p></div></div></div>
<div class="live-post"><div class="live-post__body"><div class="article__block article__block--html"><p>Second post.</p></div></div></div>
</div></article></body></html>"""
    doc = extract(page.encode())
    assert doc.profile == "moscowtimes"
    assert doc.title == "Live: Day One"
    assert doc.paragraphs == (
        "Follow our coverage as events unfold.",
        "First post with a source.",
        "Second post.",
    )
    assert [link.url for link in doc.links] == ["https://example.org/src"]


def test_amp_images_are_read() -> None:
    page = """<html><head><link rel="canonical" href="https://www.themoscowtimes.com/2020/01/01/x-a1">
</head><body><article class="article"><header class="article__header"><h1>AMP</h1></header>
<figure class="article__featured-image featured-image"><amp-img src="https://static.themoscowtimes.com/i.jpg"></amp-img>
<span class="article__featured-image__caption">A caption</span><span class="article__featured-image__credits">A credit</span></figure>
<div class="article__content"><div class="article__block article__block--html"><p>Body.</p></div>
<amp-ad width="336" height="280"><p>Advert text</p></amp-ad></div></article></body></html>"""
    doc = extract(page.encode())
    assert doc.images[0].url == "https://static.themoscowtimes.com/i.jpg"
    assert (doc.images[0].caption, doc.images[0].credits) == ("A caption", "A credit")
    assert doc.paragraphs == ("Body.",)
