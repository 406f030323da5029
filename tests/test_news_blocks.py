"""What the home page and "Các tin khác" pick, as plain functions."""

from news_blocks import featured_article, related_articles


class Item:
    def __init__(self, name, featured="false"):
        self.name, self.featured = name, featured

    def __repr__(self):
        return self.name


def test_related_are_the_nearest_older_then_newer():
    items = [Item(str(n)) for n in range(10)]  # newest first
    names = lambda found: [i.name for i in found]  # noqa: E731
    assert names(related_articles(items, items[3], 4)) == ["4", "5", "6", "7"]
    assert names(related_articles(items, items[8], 4)) == ["9", "7", "6", "5"]
    assert names(related_articles(items, items[9], 3)) == ["8", "7", "6"]
    assert names(related_articles(items[:1], items[0], 3)) == []


def test_featured_is_the_newest_marked_one_else_the_newest():
    plain, marked, older_marked = Item("a"), Item("b", "true"), Item("c", "có")
    assert featured_article([plain, marked, older_marked]) is marked
    assert featured_article([plain, Item("d")]) is plain
    assert featured_article([]) is None
