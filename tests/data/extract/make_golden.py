# ruff: noqa: E501  (HTML literals of the golden pages read better unwrapped)
"""Writes the golden pages of this folder and their expected JSON from one spec per page.

The expected values come from the spec (what a reader of the page sees), never from running the
extractor, so the golden test checks the extractor against an independent statement. Run it only
to change the golden set: ``python tests/data/extract/make_golden.py``; review the diff.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

HERE = Path(__file__).parent
MT = "https://www.themoscowtimes.com"


def a(url: str, text: str) -> str:
    return f'<a href="{html.escape(url)}">{html.escape(text, quote=False)}</a>'


def head(
    *,
    title: str,
    description: str,
    url: str,
    published: str,
    modified: str,
    authors: list[str],
    section: str,
    extra: str = "",
) -> str:
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": title,
        "description": description,
        "datePublished": published,
        "dateModified": modified,
        "articleSection": section,
        "author": [{"@type": "Person", "name": n} for n in authors],
        "publisher": {"@type": "Organization", "name": "The Moscow Times"},
    }
    return f"""<head>
  <meta charset="utf-8">
  <title>{html.escape(title)} - The Moscow Times</title>
  <link rel="canonical" href="{url}">
  <meta property="og:site_name" content="The Moscow Times">
  <meta property="og:title" content="{html.escape(title)}">
  <meta property="og:description" content="{html.escape(description)}">
  <meta property="og:url" content="{url}">
  <meta property="article:published_time" content="{published}">
  <meta property="article:modified_time" content="{modified}">
  <script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
  <script>window.dataLayer = [{{"articleId": 1, "note": "Script text is not article text"}}];</script>
  {extra}
</head>"""


NAV = f"""<header class="site-header"><nav class="navigation"><ul>
  <li>{a(MT + "/news", "News")}</li><li>{a(MT + "/opinion", "Opinion")}</li>
  <li>{a(MT + "/business", "Business")}</li><li>{a(MT + "/arts-and-life", "Arts and Life")}</li>
</ul></nav><div class="banner banner--top"><div class="banner__container">Advertisement</div></div></header>"""

FOOT = f"""<footer class="site-footer">{a(MT + "/page/about", "About us")} {a(MT + "/page/privacy-policy", "Privacy Policy")}
<p>&copy; 2026 The Moscow Times</p></footer>
<script src="{MT}/js/main.js"></script>"""

BANNER = """<div class="banner banner--in-article"><div class="banner__label">Advertisement</div>
<div id="div-gpt-ad-1" class="banner__container"><script>googletag.display('div-gpt-ad-1');</script></div></div>"""

NEWSLETTER = f"""<div class="article__block article__block--newsletter"><div class="newsletter">
<h3 class="newsletter__title">The Moscow Times Newsletter</h3><p>Get the day's top stories in your inbox.</p>
<form><input type="email"><button>Subscribe</button></form>{a(MT + "/page/privacy-policy", "Privacy policy")}</div></div>"""


def tail(*, tags: list[str], related: list[tuple[str, str]], next_article: str = "") -> str:
    tag_links = " ".join(
        f'<a class="tag" href="{MT}/tag/{t.replace(" ", "-")}">{t}</a>' for t in tags
    )
    items = "".join(
        f'<div class="article-excerpt-default"><a href="{u}"><h5>{html.escape(t)}</h5></a></div>'
        for u, t in related
    )
    return f"""<div class="article__tags tags"><span>Read more about:</span> {tag_links}</div>
<div class="article__share social-share"><a href="https://www.facebook.com/sharer/sharer.php?u=x">Facebook <span class="social-share__count">512</span></a>
<a href="https://twitter.com/intent/tweet?url=x">Twitter <span class="social-share__count">87</span></a></div>
</div></article>
<section class="cluster"><h3>Read more</h3>{items}</section>
<div id="load-next-article">{next_article}</div>"""


def html_block(*paras: str) -> str:
    return (
        '<div class="article__block article__block--html article__block--column">'
        + "".join(f"<p>{p}</p>" for p in paras)
        + "</div>"
    )


def page(
    *,
    section: str,
    head_html: str,
    header: str,
    byline: str,
    featured: str,
    blocks: list[str],
    after: str,
    intro: str = "",
) -> str:
    return f"""<!DOCTYPE html>
<!-- Golden page written for the test suite in the site's current markup (moscowtimes-anatomy.md); not a saved page. -->
<html lang="en">
{head_html}
<body class="page page--article">
{NAV}
<main><div class="container">
<article class="article article--{section}">
<header class="article__header">{header}</header>
<div class="article__byline byline">{byline}</div>
{intro}
{featured}
<div class="article__content-container"><div class="article__content">
{"".join(blocks)}
</div>
{after}
</div></main>
{FOOT}
</body>
</html>
"""


def write(name: str, text: str, expected: dict[str, object]) -> None:
    (HERE / f"{name}.html").write_text(text, encoding="utf-8")
    expected = {"page": f"data/extract/{name}.html", **expected}
    (HERE / f"{name}.expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def multi_author_news() -> None:
    url = f"{MT}/2026/11/20/moscow-city-court-fines-publishers-a91234"
    title = "Moscow Court Fines Three Publishers Over ‘Foreign Agent’ Labels"
    sub = "The fines are the largest yet under the 2022 law, lawyers said."
    authors = ["Anna Petrova", "Ivan Sidorov", "Maria Kuznetsova"]
    paras = [
        "A Moscow court on Thursday fined three independent publishers a combined 4.5 million "
        "rubles for failing to mark their books with the “foreign agent” label.",
        "The rulings, handed down within hours of each other, concern 11 titles published "
        "since 2023, according to court records seen by The Moscow Times.",
        "Defense lawyers said they would appeal.",
        "What the law requires",
        "Under amendments adopted in 2022, any material produced by a person or group "
        "designated a foreign agent must carry a 24-word disclaimer in capital letters.",
        "“We printed the label on every copy we sold after the designation,” one publisher "
        "told the court. “The books in question were printed before it.”",
        "The Justice Ministry maintains a public register of foreign agents, which it updates "
        "on Fridays.",
    ]
    link_u = "https://minjust.gov.ru/ru/documents/7755/"
    blocks = [
        html_block(paras[0], paras[1]),
        BANNER,
        html_block(paras[2]),
        f'<div class="article__block article__block--header"><h2>{paras[3]}</h2></div>',
        html_block(paras[4]),
        '<div class="article__block article__block--quote"><blockquote class="article__quote">'
        f"<p>{paras[5]}</p></blockquote></div>",
        '<div class="article__block article__block--embed"><blockquote class="twitter-tweet">'
        "<p>Embedded post text that changes when the platform does</p></blockquote>"
        '<script src="https://platform.twitter.com/widgets.js"></script></div>',
        html_block(
            f"The Justice Ministry maintains a {a(link_u, 'public register')} of foreign "
            "agents, which it updates on Fridays."
        ),
        NEWSLETTER,
    ]
    byline = (
        '<div class="byline__author__names">By '
        + ", ".join(
            f'<a class="byline__author__name" href="{MT}/author/{n.lower().replace(" ", "-")}">{n}</a>'
            for n in authors[:2]
        )
        + f' and <a class="byline__author__name" href="{MT}/author/maria-kuznetsova">{authors[2]}</a></div>'
        '<time class="byline__datetime" datetime="2026-11-20T14:05:00+03:00">Nov. 20, 2026</time>'
    )
    text = page(
        section="news",
        head_html=head(
            title=title,
            description=sub,
            url=url,
            published="2026-11-20T14:05:00+03:00",
            modified="2026-11-20T14:09:00+03:00",
            authors=authors,
            section="News",
        ),
        header=f'<span class="label article__label">News</span><h1>{a(url, title)}</h1><h2>{sub}</h2>',
        byline=byline,
        featured='<figure class="article__featured-image"><img src="/image/article_1360/court.jpg">'
        '<span class="article__featured-image__caption">Moscow City Court.</span>'
        '<span class="article__featured-image__credits">Sergei Kiselev / Moskva News Agency</span></figure>',
        blocks=blocks,
        after=tail(
            tags=["Foreign agents", "Publishing"],
            related=[(f"{MT}/2026/11/01/publishers-a91000", "Publishers Brace for New Rules")],
        ),
    )
    write(
        "mt-news-multiauthor",
        text,
        {
            "profile": "moscowtimes",
            "url": url,
            "title": title,
            "subtitle": sub,
            "label": "News",
            "authors": authors,
            "published": "2026-11-20T14:05:00+03:00",
            "modified": "2026-11-20T14:09:00+03:00",
            "paragraphs": paras,
            "links": [
                {"url": f"{MT}/author/anna-petrova", "text": "Anna Petrova"},
                {"url": f"{MT}/author/ivan-sidorov", "text": "Ivan Sidorov"},
                {"url": f"{MT}/author/maria-kuznetsova", "text": "Maria Kuznetsova"},
                {"url": link_u, "text": "public register"},
            ],
            "images": [
                {
                    "url": f"{MT}/image/article_1360/court.jpg",
                    "caption": "Moscow City Court.",
                    "credits": "Sergei Kiselev / Moskva News Agency",
                }
            ],
            "must_contain": ["24-word disclaimer", "“We printed the label"],
            "must_not_contain": [
                "Advertisement",
                "Embedded post text",
                "Newsletter",
                "Subscribe",
                "Publishers Brace",
                "Read more about",
                "Script text",
                "512",
            ],
        },
    )


def updated_article() -> None:
    url = f"{MT}/2026/10/02/ruble-slides-past-100-a90500"
    title = "Ruble Slides Past 100 Against the Dollar"
    sub = "The central bank said it saw no threat to financial stability."
    intro = "The ruble weakened past 100 to the dollar on Wednesday for the first time since March."
    paras = [
        intro,
        "The currency lost 2.3% in Moscow trading by the close, extending a slide that began "
        "after new sanctions on the country's largest banks.",
        "Analysts polled by Reuters expect the central bank to raise its key rate at its "
        "next meeting on Oct. 25.",
        "This article was updated with the central bank's comment.",
    ]
    blocks = [html_block(paras[1], paras[2]), BANNER, html_block(f"<em>{paras[3]}</em>")]
    byline = (
        '<div class="byline__author__names">By <a class="byline__author__name" '
        f'href="{MT}/author/the-moscow-times">The Moscow Times</a></div>'
        '<span class="byline__updated">Updated: </span>'
        '<time class="byline__datetime" datetime="2026-10-02T18:40:00+03:00">Oct. 2, 2026</time>'
    )
    text = page(
        section="business",
        head_html=head(
            title=title,
            description=sub,
            url=url,
            published="2026-10-02T11:15:00+03:00",
            modified="2026-10-02T18:40:00+03:00",
            authors=["The Moscow Times"],
            section="Business",
        ),
        header=f"<h1>{a(url, title)}</h1><h2>{sub}</h2>",
        byline=byline,
        intro=f'<div class="article__intro"><p>{intro}</p></div>',
        featured="",
        blocks=blocks,
        after=tail(tags=["Ruble"], related=[(f"{MT}/2026/09/30/oil-a90480", "Oil Prices Fall")]),
    )
    write(
        "mt-updated",
        text,
        {
            "profile": "moscowtimes",
            "url": url,
            "title": title,
            "subtitle": sub,
            "label": "Business",
            "authors": ["The Moscow Times"],
            "published": "2026-10-02T11:15:00+03:00",
            "modified": "2026-10-02T18:40:00+03:00",
            "paragraphs": paras,
            "links": [{"url": f"{MT}/author/the-moscow-times", "text": "The Moscow Times"}],
            "images": [],
            "must_contain": ["first time since March", "updated with the central bank"],
            "must_not_contain": ["Updated:", "Oil Prices Fall", "Advertisement"],
        },
    )


def images_quote_link() -> None:
    url = f"{MT}/2026/09/12/the-last-days-of-a-siberian-village-a90210"
    title = "The Last Days of a Siberian Village"
    sub = (
        "A reservoir will flood Kezhma district next spring. Its residents are not leaving quietly."
    )
    paras = [
        "Nadezhda Popova has lived in the same log house for 61 years. Next spring, the water will "
        "reach its windows.",
        "The district administration has offered each household a flat in Krasnoyarsk, 900 "
        "kilometers to the south, or a cash payment that residents call insulting.",
        "“They are paying us for the house. Nobody pays for the graves,” Popova said.",
        "Officials did not respond to requests for comment sent by email.",
        "By the end of the summer, 40 families remained.",
    ]
    next_article = (
        '<article class="article article--news"><header class="article__header"><h1>'
        f"{a(MT + '/2026/09/13/next-a90220', 'Wildfires Reach Yakutsk Suburbs')}</h1></header>"
        '<div class="article__content"><div class="article__block article__block--html">'
        "<p>Smoke from wildfires covered Yakutsk on Saturday.</p></div></div></article>"
    )
    blocks = [
        html_block(paras[0], paras[1]),
        BANNER,
        '<div class="article__block article__block--image"><figure class="article__image">'
        '<img src="https://static.themoscowtimes.com/image/1360/house.jpg" alt="">'
        '<figcaption><span class="article__image__caption">Popova’s house on the Angara.</span>'
        '<span class="article__image__credits">Olga Ivanova / MT</span></figcaption></figure></div>',
        '<div class="article__block article__block--quote"><blockquote class="article__quote">'
        f"<p>{paras[2]}</p></blockquote></div>",
        '<div class="article__block article__block--link"><div class="article__link">'
        f'<a href="{MT}/2025/05/01/dams-a88000"><h3 class="article__link__title">Siberia’s New Dams, Explained</h3></a></div></div>',
        html_block(paras[3]),
        '<div class="article__block article__block--images"><figure class="article__image">'
        '<img src="https://static.themoscowtimes.com/image/1360/church.jpg">'
        '<span class="article__image__caption">The village church.</span>'
        '<span class="article__image__credits">Olga Ivanova / MT</span></figure></div>',
        '<div class="article__block article__block--aside"><aside>Support independent journalism. Donate today.</aside></div>',
        html_block(paras[4]),
    ]
    byline = (
        '<div class="byline__author__names">By <a class="byline__author__name" '
        f'href="{MT}/author/olga-ivanova">Olga Ivanova</a></div>'
        '<time class="byline__datetime" datetime="2026-09-12T09:00:00+03:00">Sept. 12, 2026</time>'
    )
    text = page(
        section="arts-and-life",
        head_html=head(
            title=title,
            description=sub,
            url=url,
            published="2026-09-12T09:00:00+03:00",
            modified="2026-09-12T09:05:00+03:00",
            authors=["Olga Ivanova"],
            section="Arts and Life",
        ),
        header=f'<span class="label article__label">Feature</span><h1>{a(url, title)}</h1><h2>{sub}</h2>',
        byline=byline,
        featured='<figure class="article__featured-image"><img src="https://static.themoscowtimes.com/image/1360/village.jpg">'
        '<span class="article__featured-image__caption">Kezhma, August 2026.</span>'
        '<span class="article__featured-image__credits"><strong>Olga Ivanova / MT</strong></span></figure>',
        blocks=blocks,
        after=tail(
            tags=["Siberia"],
            related=[(f"{MT}/2026/08/01/angara-a90000", "Angara Floods")],
            next_article=next_article,
        ),
    )
    write(
        "mt-images-quote-link",
        text,
        {
            "profile": "moscowtimes",
            "url": url,
            "title": title,
            "subtitle": sub,
            "label": "Feature",
            "authors": ["Olga Ivanova"],
            "published": "2026-09-12T09:00:00+03:00",
            "modified": "2026-09-12T09:05:00+03:00",
            "paragraphs": paras,
            "links": [{"url": f"{MT}/author/olga-ivanova", "text": "Olga Ivanova"}],
            "images": [
                {
                    "url": "https://static.themoscowtimes.com/image/1360/village.jpg",
                    "caption": "Kezhma, August 2026.",
                    "credits": "Olga Ivanova / MT",
                },
                {
                    "url": "https://static.themoscowtimes.com/image/1360/house.jpg",
                    "caption": "Popova’s house on the Angara.",
                    "credits": "Olga Ivanova / MT",
                },
                {
                    "url": "https://static.themoscowtimes.com/image/1360/church.jpg",
                    "caption": "The village church.",
                    "credits": "Olga Ivanova / MT",
                },
            ],
            "must_contain": ["Nobody pays for the graves", "40 families remained"],
            "must_not_contain": [
                "Siberia’s New Dams",
                "Wildfires",
                "Smoke from wildfires",
                "Donate today",
                "Angara Floods",
            ],
        },
    )


def amp_page() -> None:
    url = f"{MT}/2019/04/04/kremlin-says-a65100"
    title = "Kremlin Says It Has No Plans to Merge With Belarus"
    paras = [
        "The Kremlin on Thursday denied reports that it was preparing to merge Russia and Belarus "
        "into a single state before 2024.",
        "“There are no such plans,” Kremlin spokesman Dmitry Peskov told reporters in a daily "
        "conference call, calling the reports speculation.",
        "The two countries have been part of a loose union state since 1999, which provides for "
        "close economic and military ties but leaves their governments separate.",
        "Belarusian President Alexander Lukashenko has repeatedly said that his country will never "
        "become part of Russia, while leaving the door open to deeper economic integration.",
    ]
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": title,
        "datePublished": "2019-04-04T13:20:00+03:00",
        "dateModified": "2019-04-04T13:45:00+03:00",
        "author": {"@type": "Person", "name": "Reuters"},
        "articleSection": "News",
    }
    text = f"""<!doctype html>
<!-- Golden page written for the test suite: an AMP variant without the article__content markup. -->
<html amp lang="en">
<head><meta charset="utf-8"><title>{title}</title>
<link rel="canonical" href="{url}">
<meta property="og:site_name" content="The Moscow Times"><meta property="og:title" content="{title}">
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
<script async src="https://cdn.ampproject.org/v0.js"></script>
<style amp-custom>body {{ font-family: serif; }}</style></head>
<body><header class="amp-header">{a(MT, "The Moscow Times")} {a(MT + "/news", "News")}</header>
<main><div class="amp-article">
<h1 class="amp-article__title">{title}</h1>
<div class="amp-article__meta">Reuters · April 4, 2019</div>
<div class="amp-article__body">{"".join(f"<p>{p}</p>" for p in paras)}</div>
<amp-ad width="300" height="250" type="doubleclick" data-slot="/1/amp"></amp-ad>
</div></main>
<footer>{a(MT + "/page/about", "About us")}</footer></body></html>
"""
    write(
        "mt-amp",
        text,
        {
            "profile": "moscowtimes-jsonld",
            "url": url,
            "title": title,
            "authors": ["Reuters"],
            "published": "2019-04-04T13:20:00+03:00",
            "modified": "2019-04-04T13:45:00+03:00",
            "label": "News",
            "reference_paragraphs": paras,
            "must_contain": [
                "There are no such plans",
                "loose union state",
                "never become part of Russia",
            ],
            "must_not_contain": ["About us"],
        },
    )


def old_design_cp1251() -> None:
    """An old.themoscowtimes.com page in windows-1251 that declares koi8-r in its meta."""
    url = "http://old.themoscowtimes.com/sitemap/free/2012/5/article/putin-sworn-in/458321.html"
    title = "Путин вступил в должность президента"
    paras = [
        "Владимир Путин в понедельник в третий раз вступил в должность президента России на "
        "церемонии в Большом Кремлёвском дворце.",
        "На церемонии присутствовали около двух тысяч гостей, среди них члены правительства, "
        "депутаты Государственной думы и представители духовенства.",
        "Накануне в центре Москвы полиция задержала несколько сотен участников акции протеста на "
        "Болотной площади, сообщили правозащитники.",
    ]
    text = f"""<html>
<!-- Golden page written for the test suite: old design, windows-1251 bytes, meta says koi8-r. -->
<head><meta http-equiv="Content-Type" content="text/html; charset=koi8-r">
<title>{title} | The Moscow Times</title>
<meta property="og:site_name" content="The Moscow Times"><meta property="og:title" content="{title}">
<meta property="article:published_time" content="2012-05-07T12:00:00+04:00">
</head>
<body><div id="top"><div id="menu">{a("http://old.themoscowtimes.com/news/", "Новости")} | {a("http://old.themoscowtimes.com/opinion/", "Мнения")}</div></div>
<div id="content"><div class="article"><h1>{title}</h1><div class="date">07 мая 2012</div>
<div class="article_text">{"".join(f"<p>{p}</p>" for p in paras)}</div></div></div>
<div id="footer">Copyright 2012 The Moscow Times</div></body></html>
"""
    (HERE / "mt-old-cp1251.html").write_bytes(text.encode("cp1251"))
    expected = {
        "page": "data/extract/mt-old-cp1251.html",
        "url": url,
        "url_arg": url,
        "profile": "moscowtimes-jsonld",
        "encoding": "cp1251",
        "title": title,
        "published": "2012-05-07T12:00:00+04:00",
        "must_contain": ["третий раз вступил в должность", "Болотной площади"],
        "must_not_contain": ["Мнения", "Copyright 2012"],
        "warnings_contain": ["koi8-r"],
        "reference_paragraphs": paras,
    }
    (HERE / "mt-old-cp1251.expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def generic_pages() -> None:
    url = "https://www.wilsoncenter.org/blog-post/trump-le-pen-and-other-fleeting-relationships-the-russian-scare-real"
    title = "Trump, Le Pen and Other Fleeting Relationships: Is the Russian Scare Real?"
    paras = [
        "There is a fashionable line of thought that has Russia pulling the strings in major "
        "democracies on both sides of the Atlantic, and few weeks pass without a new example.",
        "As much as the Kremlin would like everybody to believe that it is able to manipulate "
        "political outcomes all over the world, the claims seem to be exaggerated by those who "
        "repeat them.",
        "Russian foreign policy can only produce sure results by means of large-scale violence; "
        "when unaided by bombs, its diplomacy often fails, as the record of the past decade shows.",
        "Putin prefers to deal with friends, and the ties he trusts are the old ones: judo club "
        "comrades, college friends and colleagues from his years in Dresden.",
    ]
    link = (
        "https://www.rferl.org/a/putin-dresden-kgb-friends/28343152.html",
        "colleagues from his years in Dresden",
    )
    body = "".join(f"<p>{p}</p>" for p in paras[:3])
    body += "<p>" + paras[3].replace(link[1], a(link[0], link[1])) + "</p>"
    ld = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": title,
        "datePublished": "2017-03-29T10:00:00-04:00",
        "author": {"@type": "Person", "name": "Andrey Babitskiy"},
    }
    text = f"""<!DOCTYPE html>
<!-- Golden page written for the test suite: a linked source page on another site (generic profile). -->
<html lang="en"><head><meta charset="utf-8"><title>{title} | Wilson Center</title>
<link rel="canonical" href="{url}">
<meta property="og:site_name" content="Wilson Center">
<script type="application/ld+json">{json.dumps(ld)}</script></head>
<body><header><nav><ul><li>{a("/programs", "Programs")}</li><li>{a("/events", "Events")}</li><li>{a("/publications", "Publications")}</li><li>{a("/donate", "Donate")}</li></ul></nav></header>
<main><article class="blog-post"><h1>{title}</h1><div class="author">By Andrey Babitskiy</div>
<div class="blog-post__body">{body}</div></article>
<aside class="sidebar"><h3>Related programs</h3><ul><li>{a("/program/kennan-institute", "Kennan Institute")}</li><li>{a("/program/europe", "Global Europe Program")}</li></ul></aside>
</main>
<footer><p>Woodrow Wilson International Center for Scholars. One Woodrow Wilson Plaza.</p>{a("/privacy", "Privacy policy")}</footer></body></html>
"""
    write(
        "generic-wilsoncenter",
        text,
        {
            "profile": "generic",
            "url": url,
            "title": title,
            "authors": ["Andrey Babitskiy"],
            "published": "2017-03-29T10:00:00-04:00",
            "paragraphs": paras,
            "links": [{"url": link[0], "text": link[1]}],
            "must_contain": ["large-scale violence", "judo club"],
            "must_not_contain": [
                "Donate",
                "Global Europe Program",
                "One Woodrow Wilson Plaza",
                "Privacy policy",
            ],
        },
    )

    url2 = "https://www.dw.com/en/schroeder-putin-friendship/a-18437221"
    title2 = "Schröder and Putin: a friendship that outlasted office"
    paras2 = [
        "Gerhard Schröder left the chancellery in 2005, but his friendship with Vladimir Putin "
        "has only grown stronger in the years since, to the discomfort of his party.",
        "Within weeks of leaving office he took the chair of the shareholders' committee of Nord "
        "Stream, the pipeline company controlled by Gazprom.",
        "Critics in Berlin say the arrangement blurred the line between diplomacy and business; "
        "Schröder has always rejected the charge, saying the pipeline serves Europe.",
    ]
    text2 = f"""<!DOCTYPE html>
<!-- Golden page written for the test suite: a linked source page on another site (generic profile). -->
<html lang="en"><head><meta charset="utf-8"><title>{title2} | DW</title>
<meta property="og:title" content="{title2}"><meta property="og:url" content="{url2}">
<meta name="author" content="Kate Brady"><meta property="article:published_time" content="2015-06-25T09:30:00Z">
</head><body>
<div class="cookie-banner">We use cookies to improve our service. <button>Accept</button></div>
<header><a href="/en/">DW</a> <a href="/en/top-stories/s-9097">Top stories</a> <a href="/en/germany/s-1432">Germany</a></header>
<article><h1>{title2}</h1><p class="teaser">Teaser is a summary.</p>
{"".join(f"<p>{p}</p>" for p in paras2)}
</article>
<section class="related"><h2>Related content</h2><a href="/en/a-1">Nord Stream 2 explained</a> <a href="/en/a-2">Gazprom profits fall</a></section>
<footer>© 2015 Deutsche Welle | <a href="/en/legal-notice">Legal notice</a></footer>
</body></html>
"""
    write(
        "generic-dw",
        text2,
        {
            "profile": "generic",
            "url": url2,
            "title": title2,
            "authors": ["Kate Brady"],
            "published": "2015-06-25T09:30:00Z",
            "reference_paragraphs": paras2,
            "must_contain": paras2,
            "must_not_contain": [
                "We use cookies",
                "Nord Stream 2 explained",
                "Legal notice",
                "Top stories",
            ],
        },
    )


SEED_LINKS = [
    ("Andrei Babitsky", f"{MT}/author/andrei-babitsky"),
    ("Moscow's meddling", f"{MT}/2017/02/21/kremlin-denies-meddling-in-european-elections-a57216"),
    (
        "France",
        "https://themoscowtimes.com/articles/macron-campaign-target-of-russian-hackers-57205",
    ),
    ("Moldova", f"{MT}/2016/11/14/pro-russian-candidate-wins-moldova-presidential-election-a56132"),
    ("Our Man in Havana", "https://en.wikipedia.org/wiki/Our_Man_in_Havana"),
    (
        "youth judo club comrades",
        "https://www.reuters.com/investigates/special-report/russia-capitalism-rotenberg/",
    ),
    ("college buddy", "https://www.occrp.org/en/panamapapers/profiles/sergei-roldugin"),
    ("comrades in arms", "https://www.rferl.org/a/putin-dresden-kgb-friends/28343152.html"),
    (
        "a guy who lived next door to his summer house",
        "https://www.newsweek.com/putin-neighbors-ozero-dacha-cooperative-528736",
    ),
    ("Gerhard Schröder", "https://www.dw.com/en/schroeder-putin-friendship/a-18437221"),
    ("this story", "https://www.bellingcat.com/news/2017/03/20/bulgaria-russian-consultants/"),
    (
        "The Russian File. A Kennan Institute Blog",
        "https://www.wilsoncenter.org/blog-post/trump-le-pen-and-other-fleeting-relationships-the-russian-scare-real",
    ),
    (
        "French Presidential Hopeful Le Pen Meets Putin on Russia Trip",
        f"{MT}/2017/03/24/french-presidential-hopeful-le-pen-meets-putin-on-russia-trip-a57531",
    ),
]


def seed_body(markdown: str) -> list[str]:
    """The seed copy's body paragraphs as plain text, its split paragraph joined again."""
    paras = [p.strip() for p in markdown.split("\n\n") if p.strip()]
    start = next(i for i, p in enumerate(paras) if p.startswith("There is a fashionable"))
    end = next(i for i, p in enumerate(paras) if p.startswith("**Related article:**"))
    out: list[str] = []
    for p in paras[start : end + 1]:
        p = re.sub(r"^#+\s*", "", p)
        p = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", p).replace("**", "").replace("*", "")
        if out and out[-1].endswith("draw no"):
            out[-1] += " " + p
        else:
            out.append(p)
    return out


def seed() -> None:
    """Expected JSON of the seed page (tests/web/pages/mt-a57583.html), from the seed copy."""
    copy = (
        HERE.parents[2]
        / "snapshots"
        / "2017-03-30-trump-le-pen-and-other-fleeting-relationships-a57583.md"
    )
    url = f"{MT}/2017/03/30/trump-le-pen-and-other-fleeting-relationships-is-the-russian-scare-real-a57583"
    expected = {
        "page": "web/pages/mt-a57583.html",
        "profile": "moscowtimes",
        "url": url,
        "label": "Opinion",
        "title": "Trump, Le Pen and Other Fleeting Relationships: Is the Russian Scare Real?",
        "subtitle": "Putin prefers to deal with friends. But few politicians can afford to admit getting an endorsement from a foreign power.",
        "authors": ["Andrei Babitsky"],
        "published": "2017-03-30T19:15:00+03:00",
        "modified": "2017-03-30T21:40:00+03:00",
        "paragraphs": seed_body(copy.read_text(encoding="utf-8")),
        "links": [{"url": u, "text": t} for t, u in SEED_LINKS],
        "images": [
            {
                "url": "https://static.themoscowtimes.com/image/article_1360/2017/03/30/le-pen-kremlin.jpg",
                "caption": "Marine Le Pen visiting the Kremlin on the invitation of Russian parliamentarians.",
                "credits": "Kremlin Press Service",
            }
        ],
        "encoding": "utf-8",
        "must_contain": [
            "Putin seems to draw no boundary at all",
            "(старый друг лучше новых двух)",
            "Link:",
        ],
        "must_not_contain": [
            "The views expressed in opinion pieces",
            "Read more about",
            "Newsletter",
            "Advertisement",
            "The Kremlin's European Friends",
            "Next article",
            "1,204",
        ],
    }
    (HERE / "mt-a57583.expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    seed()
    multi_author_news()
    updated_article()
    images_quote_link()
    amp_page()
    old_design_cp1251()
    generic_pages()
