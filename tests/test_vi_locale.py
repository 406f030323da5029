import datetime
import unicodedata

from conftest import ROOT
from pelican.settings import read_settings
from pelican.utils import slugify
from portal.vietnamese import (
    nfc, vi_bulletin_time, vi_date, vi_datetime, vi_filesize, vi_number,
)
from zoneinfo import ZoneInfo


HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_article_date_line():
    assert vi_datetime(datetime.datetime(2020, 3, 23, 8, 15, tzinfo=HCM)) == "Thứ Hai, 23/03/2020 08:15"
    assert vi_datetime(datetime.datetime(2020, 3, 29, 18, 5, tzinfo=HCM)) == "Chủ Nhật, 29/03/2020 18:05"


def test_dates_are_shown_in_vietnam_time():
    utc = datetime.datetime(2020, 8, 14, 4, 0, tzinfo=datetime.timezone.utc)
    assert vi_bulletin_time(utc) == "11h00 ngày 14/8/2020"
    assert vi_date(datetime.datetime(2020, 3, 22, 20, 0, tzinfo=datetime.timezone.utc)) == "23/03/2020"


def test_numbers_use_vietnamese_separators():
    assert vi_number(2686455) == "2.686.455"
    assert vi_number(3357) == "3.357"
    assert vi_number(0) == "0"


def test_file_sizes():
    assert vi_filesize(512) == "512 byte"
    assert vi_filesize(1258291) == "1,2 MB"
    assert vi_filesize(870 * 1024) == "870 KB"


def test_slugs_transliterate_d_with_stroke():
    settings = read_settings(str(ROOT / "pelicanconf.py"))
    subs = settings["SLUG_REGEX_SUBSTITUTIONS"]
    assert slugify("Đại hội Đảng bộ xã Đồng Tiến", subs) == "dai-hoi-dang-bo-xa-dong-tien"
    nfd = unicodedata.normalize("NFD", "Đại hội Đảng bộ xã Đồng Tiến")
    assert slugify(nfd, subs) == "dai-hoi-dang-bo-xa-dong-tien"
    assert slugify("Tin tức - Sự kiện", subs) == "tin-tuc-su-kien"


def test_nfc_normalises_decomposed_text():
    nfd = unicodedata.normalize("NFD", "Đảng bộ")
    assert nfd != "Đảng bộ"
    assert nfc(nfd) == "Đảng bộ"
