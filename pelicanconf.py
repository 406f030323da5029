"""Settings for the development build of the portal.

Everything that belongs to this particular board (name, emblem, address,
province, menu order, footer) lives here or in ``content/``; the theme only
reads these names, so another province's board reuses the generator by
editing this file and its content.
"""

# --- The board -------------------------------------------------------------
SITENAME = "Ban Tuyên giáo Tỉnh ủy Bình Phước"
SITE_SUPERTITLE = "Đảng Cộng sản Việt Nam"
SITE_TAGLINE = "Trang thông tin điện tử của Ban Tuyên giáo Tỉnh ủy Bình Phước"
SITE_EMBLEM = "images/emblem.png"
SITE_HEADER_IMAGE = "images/header-bg.jpg"
SITE_DEFAULT_IMAGE = "images/og-default.jpg"
BOARD_ADDRESS = "Số 1 đường Lê Quý Đôn, phường Tân Phú, thành phố Đồng Xoài, tỉnh Bình Phước"
BOARD_PHONE = "(0271) 3879 246"
BOARD_EMAIL = "bantuyengiao@binhphuoc.gov.vn"
FOOTER_LINES = [
    "Cơ quan chủ quản: Ban Tuyên giáo Tỉnh ủy Bình Phước",
    "Chịu trách nhiệm chính: Trưởng Ban Tuyên giáo Tỉnh ủy",
    "Giấy phép số 12/GP-TTĐT do Sở Thông tin và Truyền thông tỉnh Bình Phước cấp",
    "Ghi rõ nguồn “Ban Tuyên giáo Tỉnh ủy Bình Phước” khi phát hành lại thông tin từ trang này.",
]
AUTHOR = "Ban Tuyên giáo Tỉnh ủy Bình Phước"

# Main menu, in display order. Categories are named as staff write them in
# the articles' ``Category:`` key; pages by their slug.
MENU_CATEGORIES = [
    "Tin tức - Sự kiện",
    "Xây dựng Đảng",
    "Học tập và làm theo Bác",
    "Văn hóa - Xã hội",
    "Quốc phòng - An ninh",
]
MENU_PAGES = ["gioi-thieu", "lien-he"]
# How many articles each category block on the home page shows.
HOME_BLOCK_SIZE = 5
HOME_LATEST_SIZE = 8
RELATED_ARTICLES = 6

# --- Where the site lives ---------------------------------------------------
# SITEURL stays empty in development so links are root-relative and the site
# works on any port; PUBLIC_URL is the address readers share, used where an
# absolute URL is required (canonical, Open Graph, feeds, sitemap).
SITEURL = ""
PUBLIC_URL = "https://tuyengiao.binhphuoc.gov.vn"
FEED_DOMAIN = PUBLIC_URL

# --- Vietnamese ---------------------------------------------------------------
TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_LANG = "vi"
LOCALE = ("C.UTF-8", "C")  # formatting is done by Babel (vi), never by the machine's locale
DEFAULT_DATE_FORMAT = "%d/%m/%Y"

# --- Content -------------------------------------------------------------------
PATH = "content"
ARTICLE_PATHS = ["articles"]
PAGE_PATHS = ["pages"]
# Article photos are published by plugins/photos (resized, metadata stripped),
# never copied as they are: staff phones put GPS positions in them.
STATIC_PATHS = ["images"]
TEMPLATE_PAGES = {"extra/robots.txt": "robots.txt"}
READERS = {"html": None, "rst": None}
IGNORE_FILES = [".#*", "README.md", "*~"]
DEFAULT_CATEGORY = "Tin tức - Sự kiện"
USE_FOLDER_AS_CATEGORY = False
DEFAULT_METADATA = {"status": "published"}
SUMMARY_MAX_LENGTH = 60
# Pelican's defaults, but code blocks are never language-guessed: a pasted
# paragraph indented by four spaces is a code block, and Pygments' guess
# costs 5-8 ms a block for colouring nobody asked for.
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.codehilite": {"css_class": "highlight", "guess_lang": False},
        "markdown.extensions.extra": {},
        "markdown.extensions.meta": {},
    },
    "output_format": "html5",
}
TYPOGRIFY = False

# --- URLs ---------------------------------------------------------------------
ARTICLE_URL = "{category}/{slug}.html"
ARTICLE_SAVE_AS = ARTICLE_URL
DRAFT_URL = "ban-nhap/{slug}.html"
DRAFT_SAVE_AS = DRAFT_URL
PAGE_URL = "{slug}.html"
PAGE_SAVE_AS = PAGE_URL
CATEGORY_URL = "{slug}/"
CATEGORY_SAVE_AS = "{slug}/index.html"
TAG_URL = "chu-de/{slug}/"
TAG_SAVE_AS = "chu-de/{slug}/index.html"
ARCHIVES_URL = "tin-moi/"
ARCHIVES_SAVE_AS = "tin-moi/index.html"
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
TAGS_SAVE_AS = ""
YEAR_ARCHIVE_SAVE_AS = ""
MONTH_ARCHIVE_SAVE_AS = ""
DIRECT_TEMPLATES = ["index", "archives", "sitemap", "notfound", "search"]
SEARCH_SAVE_AS = "tim-kiem/index.html"
SITEMAP_SAVE_AS = "sitemap.xml"
NOTFOUND_SAVE_AS = "404.html"  # nginx: error_page 404 /404.html;

DEFAULT_PAGINATION = 10
PAGINATED_TEMPLATES = {"archives": None, "category": None, "tag": None}
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/trang-{number}/", "{base_name}/trang-{number}/index.html"),
)

# --- Feeds (Atom, site and per category) --------------------------------------
FEED_ALL_ATOM = "feeds/tat-ca.atom.xml"
CATEGORY_FEED_ATOM = "feeds/{slug}.atom.xml"
FEED_ALL_RSS = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
FEED_MAX_ITEMS = 30
RSS_FEED_SUMMARY_ONLY = True

# --- Theme and plugins -----------------------------------------------------------
THEME = "theme"
# The plugins and their shared library (portal/) are installed in editable
# mode (pyproject.toml, `make` does it); each stands alone, so PLUGINS may
# name any of them in any combination.
# Order matters where plugins share a signal: atomic_output's `finalized`
# handler swaps the finished site in, so it comes last.
PLUGINS = [
    "vi_locale",
    "parallel_reading",  # a cold build converts Markdown on both cores
    "content_check",
    "stable_addresses",  # slugs from folders, not titles; old addresses redirect
    "source_gate",  # files read from content/ must really be inside it; static folders hold images only
    "safe_cache",  # an unreadable Pelican cache is rebuilt, and written atomically
    "photos",
    "article_media",
    "news_blocks",
    "live_widgets",
    "banners",
    "incremental_pages",  # render only pages whose inputs changed, on both cores; changed articles first
    "site_search",  # after the pages are rendered: it indexes them
    "atomic_output",
]

# Pelican's content cache skips re-reading unchanged Markdown.
CACHE_CONTENT = True
# Pickled as it is: compressing 6 MB (5,000 articles) costs more than it saves.
GZIP_CACHE = False
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache/pelican"
CHECK_MODIFIED_METHOD = "mtime"

RELATIVE_URLS = False
DELETE_OUTPUT_DIRECTORY = False

# Every value a template prints is HTML-escaped unless marked |safe (only
# the Markdown-rendered body and lead are), so a hostile string in a feed or
# a banner title comes out as text.
JINJA_ENVIRONMENT = {"autoescape": True, "trim_blocks": True, "lstrip_blocks": True, "extensions": []}

# --- Live widgets (plugins/live_widgets) --------------------------------------
# Feeds are read from content/<LIVE_FEEDS_DIR>/ and published to
# output/<LIVE_FEEDS_OUTPUT>/, where the counter's cron job rewrites them.
LIVE_FEEDS_DIR = "feeds"
LIVE_FEEDS_OUTPUT = "feeds"
LIVE_REFRESH_SECONDS = 60

# --- Banners and the sidebar (plugins/banners, content/banners.yml) -----------
# Slot name (what banners.yml's `slot:` says) -> heading shown above it
# (empty: none), display width in CSS pixels (images are published at that
# width and twice it for sharp screens) and place: "sidebar" (the default)
# or "header" (under the emblem, above the menu; header slots follow one
# another in this order). Add, rename or reorder slots here only: the
# templates name none.
BANNERS_FILE = "banners.yml"
BANNER_SLOTS = {
    "header": {"title": "", "width": 1200, "place": "header"},
    "lien-ket": {"title": "Liên kết website", "width": 276, "place": "sidebar"},
    "ban-tin": {"title": "", "width": 276, "place": "sidebar"},  # above the public-health bulletin
    "sidebar": {"title": "", "width": 276, "place": "sidebar"},
}
# The sidebar from top to bottom: the theme's widgets (search_box: the
# search box; visitor_stats: "Thống kê truy cập"; covid_bulletin: the
# public-health bulletin; any theme/templates/widgets/<name>.html) and the
# sidebar slots above, by name. A widget left out is not shown; a sidebar
# slot left out comes after the listed blocks, in BANNER_SLOTS order. A
# name that is neither, or a header slot, stops the build.
SIDEBAR_BLOCKS = ["search_box", "lien-ket", "visitor_stats", "ban-tin", "covid_bulletin", "sidebar"]
PHOTOS_URL = "anh"  # processed photos and banners: output/anh/<hash>-<width>.<ext>
