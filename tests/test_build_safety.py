"""The build itself: what a symlink, an active file, a damaged cache or a
strange output folder can do (issue 9). Each test runs `make html` or
`make publish` against a copy of the project, as staff and cron do."""

import gzip
import os
import pickle
import shutil
import signal
import stat
import time
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, project_copy, write_article
from PIL import Image

# A file outside content/ that a hostile symlink points at: its marker must
# never appear anywhere in output/.
MARKER = "BI-MAT-CUA-MAY-CHU-7f3a9c"
ARTICLE = {
    "Title": "Hội nghị quán triệt nghị quyết",
    "Date": "2020-03-23 08:15",
    "Category": "Xây dựng Đảng",
    "Author": "H. Sơn",
    "Summary": "Lời dẫn của bài.",
    "Image": "anh.jpg",
    "ImageCaption": "Quang cảnh hội nghị",
}
PAGE = "xay-dung-dang/hoi-nghi.html"  # the article's folder names its address


def make_project(root):
    """A copy of the project with one article and its photo."""
    content = project_copy(root) / "content"
    article = write_article(content / "articles" / "xay-dung-dang", "hoi-nghi", ARTICLE,
                            "## Nội dung\n\nHội nghị đã quán triệt nghị quyết.\n")
    Image.new("RGB", (640, 480), (180, 30, 30)).save(article.parent / "anh.jpg")
    return root


def make(project, target, umask=None):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", COLUMNS="200")
    return subprocess.run(
        ["make", "-s", "-o", ".venv/.site-requirements", target], cwd=project, env=env,
        text=True, encoding="utf-8", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600,
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
    )


def snapshot(folder):
    """Every file under ``folder`` (symlinks not followed) -> its bytes."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): (os.readlink(p) if p.is_symlink() else p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_symlink() or p.is_file()}


def marker_in(folder):
    return [name for name, data in snapshot(folder).items()
            if (MARKER.encode() if isinstance(data, bytes) else MARKER) in data]


@pytest.fixture(scope="module")
def built_project(tmp_path_factory):
    """A project copy built once with `make html`: tests copy it, so each
    starts with a good published output/ (and a warm photo cache)."""
    root = make_project(tmp_path_factory.mktemp("built") / "portal")
    result = make(root, "html")
    assert result.returncode == 0, result.stdout
    return root


@pytest.fixture
def project(built_project, tmp_path):
    root = tmp_path / "portal"
    shutil.copytree(built_project, root, symlinks=True)
    return root


@pytest.fixture
def secret(tmp_path):
    """A folder outside content/ holding the marker, like /etc."""
    folder = tmp_path / "host-etc"
    folder.mkdir()
    (folder / "passwd").write_text(f"root:x:0:0:{MARKER}:/root:/bin/bash\n", encoding="utf-8")
    (folder / "shadow.jpg").write_bytes(b"\xff\xd8\xff" + MARKER.encode())
    return folder


def assert_refused(project, target, result, before, *lines):
    """The build failed with exactly these problem lines, output/ is as it
    was and holds nothing of the secret."""
    assert result.returncode != 0, result.stdout
    printed = [line for line in result.stdout.splitlines() if line.startswith("content/")]
    assert printed == list(lines), result.stdout
    assert "Traceback" not in result.stdout
    assert snapshot(project / "output") == before
    assert not marker_in(project / "output")


OUTSIDE = ("là liên kết (symlink) trỏ ra ngoài thư mục content/, tới {target}; hãy thay nó bằng chính "
           "tệp đó hoặc xóa nó (a symlink leading outside content/, to {target}: replace it with the file "
           "itself or remove it; nothing of it is published)")
FOLDER_OUTSIDE = ("là thư mục liên kết (symlink) trỏ ra ngoài content/, tới {target}; hãy xóa liên kết "
                  "và chép các tệp cần đăng vào đây (a folder symlink leading outside content/, to {target}: "
                  "remove it and copy in the files to publish; nothing in it is published)")
BAD_TYPE = ("loại tệp «{ext}» không được đăng từ thư mục này; chỉ đăng ảnh gif, ico, jpeg, jpg, png, webp. "
            "Ảnh SVG hãy xuất ra PNG (file type «{ext}» is not published from this folder, only gif, ico, "
            "jpeg, jpg, png, webp: an SVG or page could run script on the site; export SVG as PNG)")


@pytest.mark.parametrize("target", ["check", "html", "publish"])
def test_symlinked_static_file_and_folder_are_refused(project, secret, target):
    before = snapshot(project / "output")
    (project / "content/images/x.jpg").symlink_to(secret / "shadow.jpg")
    (project / "content/images/etc").symlink_to(secret, target_is_directory=True)
    result = make(project, target)
    assert_refused(project, target, result, before,
                   f"content/images/etc:1: {FOLDER_OUTSIDE.format(target=secret)}",
                   f"content/images/x.jpg:1: {OUTSIDE.format(target=secret / 'shadow.jpg')}")


@pytest.mark.parametrize("target", ["check", "html", "publish"])
def test_symlinked_article_and_template_page_are_refused(project, secret, target):
    """`make check` (where `make publish` stops) names both in the build's words."""
    before = snapshot(project / "output")
    folder = project / "content/articles/xay-dung-dang/mat-khau"
    folder.mkdir()
    (folder / "index.md").symlink_to(secret / "passwd")
    robots = project / "content/extra/robots.txt"
    robots.unlink()
    robots.symlink_to(secret / "passwd")
    result = make(project, target)
    passwd = OUTSIDE.format(target=secret / "passwd")
    lines = [f"content/articles/xay-dung-dang/mat-khau/index.md:1: {passwd}",
             f"content/extra/robots.txt:1: {passwd}"]
    assert_refused(project, target, result, before, *lines)


@pytest.mark.parametrize("target", ["html", "publish"])
def test_symlinked_attachment_is_refused(project, secret, target):
    """Attachments are copied by article_media, and content_check refuses
    the link (its words, with the line of the header)."""
    before = snapshot(project / "output")
    article = project / "content/articles/xay-dung-dang/hoi-nghi/index.md"
    (article.parent / "ke-hoach.pdf").symlink_to(secret / "passwd")
    text = article.read_text(encoding="utf-8").replace("\n\n", "\nAttachments: ke-hoach.pdf\n\n", 1)
    article.write_text(text, encoding="utf-8")
    result = make(project, target)
    passwd = secret / "passwd"
    assert_refused(project, target, result, before,
                   "content/articles/xay-dung-dang/hoi-nghi/index.md:8: Attachments: đường dẫn 'ke-hoach.pdf' "
                   "không được phép — là liên kết tượng trưng (symlink) trỏ ra ngoài thư mục content/, tới "
                   f"{passwd}; hãy thay nó bằng chính tệp đó (a symlink leading outside content/, to {passwd}: "
                   "replace it with the file itself)")
    assert article.read_text(encoding="utf-8") == text  # the staff's file is only read


@pytest.mark.parametrize("target", ["check", "html", "publish"])
def test_hard_links_to_files_outside_are_refused(project, secret, target):
    """A hard link has its real path inside content/: only the link count
    tells it may be /etc/shadow."""
    from portal.content_paths import HARD_LINK

    before = snapshot(project / "output")
    article = project / "content/articles/xay-dung-dang/hoi-nghi/index.md"
    os.link(secret / "passwd", article.parent / "ke-hoach.pdf")
    os.link(secret / "shadow.jpg", project / "content/images/cung.jpg")
    text = article.read_text(encoding="utf-8").replace("\n\n", "\nAttachments: ke-hoach.pdf\n\n", 1)
    article.write_text(text, encoding="utf-8")
    result = make(project, target)
    attachment = ("content/articles/xay-dung-dang/hoi-nghi/index.md:8: Attachments: đường dẫn 'ke-hoach.pdf' "
                  f"không được phép — {HARD_LINK}")
    image = f"content/images/cung.jpg:1: {HARD_LINK}"
    # the build's gate stops before content_check reads the articles
    lines = [image] if target == "html" else [attachment, image]
    assert_refused(project, target, result, before, *lines)


SVGS = {
    "script.svg": '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>',
    "onload.svg": '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9" height="9"/></svg>',
}


@pytest.mark.parametrize("target", ["check", "html", "publish"])
def test_active_files_in_a_static_folder_are_refused(project, target):
    before = snapshot(project / "output")
    images = project / "content/images"
    for name, text in SVGS.items():
        (images / name).write_text(text, encoding="utf-8")
    (images / "trang.html").write_text("<script>alert(1)</script>", encoding="utf-8")
    (images / "x.js").write_text("alert(1)", encoding="utf-8")
    (images / "gia.png").write_text(SVGS["script.svg"], encoding="utf-8")  # an SVG renamed .png
    result = make(project, target)
    bad_content = ("tên tệp là ảnh «.png» nhưng nội dung không phải ảnh đó; hãy lưu lại ảnh đúng "
                   "định dạng (named as a «.png» image but its content is not one: save it again "
                   "in that format)")
    assert_refused(project, target, result, before,
                   f"content/images/gia.png:1: {bad_content}",
                   f"content/images/onload.svg:1: {BAD_TYPE.format(ext='.svg')}",
                   f"content/images/script.svg:1: {BAD_TYPE.format(ext='.svg')}",
                   f"content/images/trang.html:1: {BAD_TYPE.format(ext='.html')}",
                   f"content/images/x.js:1: {BAD_TYPE.format(ext='.js')}")


def test_devserver_build_leaves_refused_files_out(project, secret):
    """Not fatal (as `make devserver` builds): the site is published
    without what the gate refused, and says why."""
    images = project / "content/images"
    (images / "etc").symlink_to(secret, target_is_directory=True)
    (images / "script.svg").write_text(SVGS["script.svg"], encoding="utf-8")
    result = subprocess.run(
        [".venv/bin/python", "-m", "pelican", "content", "-o", "output", "-s", "pelicanconf.py",
         "--log-handler", "plain"], cwd=project, text=True, encoding="utf-8",
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    assert result.returncode == 0, result.stdout
    assert f"content/images/etc:1: {FOLDER_OUTSIDE.format(target=secret)}" in result.stdout
    assert f"content/images/script.svg:1: {BAD_TYPE.format(ext='.svg')}" in result.stdout
    assert (project / "output" / PAGE).exists()
    assert not (project / "output/images/etc").exists()
    assert not (project / "output/images/script.svg").exists()
    assert not marker_in(project / "output")


def test_symlinks_inside_content_keep_working(project):
    images = project / "content/images"
    (project / "content/shared").mkdir()
    (project / "content/shared/logo.png").write_bytes((images / "emblem.png").read_bytes())
    (images / "chung").symlink_to("../shared", target_is_directory=True)
    (images / "huy-hieu.png").symlink_to("emblem.png")
    (images / "vong").symlink_to(".", target_is_directory=True)  # a loop
    result = make(project, "html")
    loop = ("là thư mục liên kết (symlink) trỏ về chính thư mục chứa nó; hãy xóa liên kết "
            "(a folder symlink back to a folder that contains it, a loop: remove it)")
    assert result.stdout.splitlines()[0] == f"content/images/vong:1: {loop}"
    assert result.returncode != 0
    (images / "vong").unlink()
    result = make(project, "html")
    assert result.returncode == 0, result.stdout
    output = project / "output/images"
    assert (output / "huy-hieu.png").read_bytes() == (images / "emblem.png").read_bytes()
    assert (output / "chung/logo.png").read_bytes() == (images / "emblem.png").read_bytes()
    assert not (output / "huy-hieu.png").is_symlink()


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_published_files_get_the_usual_modes(project, umask):
    """Every file 0666 and folder 0777 less the umask, photos included,
    whatever wrote them (the photo cache's files are 0600)."""
    (project / "output").chmod(0o700)
    result = make(project, "html", umask=umask)
    assert result.returncode == 0, result.stdout
    output = project / "output"
    assert any((output / "anh").iterdir())
    modes = {}
    for path in [output, *output.rglob("*")]:
        mode = path.lstat().st_mode
        assert not stat.S_ISLNK(mode), path
        modes[str(path.relative_to(output))] = stat.S_IMODE(mode)
        expected = (0o777 if stat.S_ISDIR(mode) else 0o666) & ~umask
        assert stat.S_IMODE(mode) == expected, (path, oct(stat.S_IMODE(mode)))
    assert modes["."] == 0o777 & ~umask


NOT_A_FOLDER = ("đã có ở đây nhưng không phải là thư mục ({kind}); hãy xóa hoặc đổi tên nó rồi dựng lại "
                "(exists but is {kind_en}, not a folder: remove or rename it, then build again; "
                "the published site was not changed)")


@pytest.mark.parametrize("name, kind", [
    ("output", "file"), ("output", "symlink"),
    ("output.staging", "file"), ("output.staging", "symlink"),
    ("output.old", "file"), ("output.old", "symlink"),
])
@pytest.mark.parametrize("target", ["html", "publish"])
def test_output_folders_that_are_not_folders(project, tmp_path, name, kind, target):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("giữ nguyên", encoding="utf-8")
    path = project / name
    if name == "output":
        shutil.rmtree(path)
    if kind == "file":
        path.write_text("một tệp", encoding="utf-8")
    else:
        path.symlink_to(elsewhere, target_is_directory=True)
    before = snapshot(project / "output") if name != "output" else None
    result = make(project, target)
    assert result.returncode != 0
    kinds = {"file": ("một tệp", "a file"), "symlink": ("liên kết symlink", "a symlink")}[kind]
    message = NOT_A_FOLDER.format(kind=kinds[0], kind_en=kinds[1])
    assert f"{name}:1: {message}" in result.stdout.splitlines(), result.stdout
    assert "Traceback" not in result.stdout
    if kind == "file":
        assert path.read_text(encoding="utf-8") == "một tệp"
    else:
        assert path.is_symlink() and snapshot(elsewhere) == {"keep.txt": "giữ nguyên".encode()}
    if before is not None:
        assert snapshot(project / "output") == before


def pages_of(folder):
    """Output files that are a pure function of the content: all but
    Pagefind's own (README, "Search": they differ between two runs)."""
    return {name: data for name, data in snapshot(folder).items() if not name.startswith("pagefind/")}


DAMAGES = {
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "not-gzip": lambda data: b"\x00garbage" * 10,
    "corrupt-deflate": lambda data: data[:20] + bytes(b ^ 0xFF for b in data[20:60]) + data[60:],
    "gzip-not-pickle": lambda data: gzip.compress(b"not a pickle at all"),
    "a-list": lambda data: gzip.compress(pickle.dumps(["not", "a", "dict"])),
    "wrong-entries": lambda data: gzip.compress(pickle.dumps({"articles/x/index.md": "no stamp"})),
}


@pytest.mark.parametrize("damage, target", [(d, "html") for d in sorted(DAMAGES)] + [("truncated", "publish")])
def test_damaged_content_cache_is_rebuilt(project, damage, target):
    """`make publish` too: a damaged cache is no content problem and must
    not fail the nightly publish after one killed build."""
    clean = make(project, target)
    assert clean.returncode == 0, clean.stdout
    expected = pages_of(project / "output")
    cache = project / "cache/pelican/ArticlesGenerator-Readers"
    cache.write_bytes(DAMAGES[damage](cache.read_bytes()))
    (project / "content/articles/xay-dung-dang/hoi-nghi/index.md").touch()  # read again, not from cache
    result = make(project, target)
    assert result.returncode == 0, result.stdout
    assert "Traceback" not in result.stdout
    warning = [line for line in result.stdout.splitlines() if "ArticlesGenerator-Readers" in line]
    assert len(warning) == 1 and warning[0].startswith(
        "cache/pelican/ArticlesGenerator-Readers: bộ nhớ đệm hỏng (có thể do lần dựng trước bị ngắt), "
        "đã bỏ và sẽ tạo lại (unreadable cache discarded and rebuilt: "), result.stdout
    assert pages_of(project / "output") == expected
    # rebuilt: the next build reads it without a word
    again = make(project, target)
    assert again.returncode == 0 and "ArticlesGenerator-Readers" not in again.stdout, again.stdout
    assert pages_of(project / "output") == expected


def test_cache_write_is_atomic(tmp_path):
    """A failure while writing leaves the old cache whole and no temporary file."""
    from safe_cache import write_cache

    target = tmp_path / "ArticlesGenerator-Readers"
    write_cache(str(target), b"old")

    with pytest.raises(TypeError):
        write_cache(str(target), object())
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ArticlesGenerator-Readers"]


def test_unwritable_parent_is_named(tmp_path, monkeypatch):
    """As root (CI) nothing is unwritable, so the check itself is tested."""
    import atomic_output

    (tmp_path / "output").mkdir()
    monkeypatch.setattr(atomic_output.os, "access", lambda path, mode: False)
    with pytest.raises(atomic_output.OutputFolderError) as raised:
        atomic_output.check_folders(str(tmp_path / "output"))
    assert str(raised.value) == f"{os.path.relpath(tmp_path / 'output')}:1: " + (
        "không ghi được vào thư mục chứa nó; hãy cho người dựng trang quyền ghi "
        "(its folder is not writable: give the building user write access; "
        "the published site was not changed)")


def test_output_in_a_folder_not_yet_made_is_fine(tiny_content, tmp_path):
    import atomic_output
    from conftest import build, write_article

    atomic_output.check_folders(str(tmp_path / "chua-co" / "con" / "output"))  # no error
    write_article(tiny_content / "articles", "bai", {
        "Title": "Bài thử", "Date": "2020-03-23 08:15", "Category": "Xây dựng Đảng"})
    assert build(tiny_content, tmp_path / "chua-co" / "con").exists("index.html")


def test_failed_swap_keeps_the_published_site(tmp_path, monkeypatch):
    import atomic_output

    output, staging = tmp_path / "output", tmp_path / "output.staging"
    output.mkdir()
    (output / "index.html").write_text("cũ", encoding="utf-8")
    staging.mkdir()
    (staging / "index.html").write_text("mới", encoding="utf-8")
    real_rename = os.rename

    def rename(source, destination):
        if str(source) == str(staging):
            raise OSError(28, "No space left on device")
        real_rename(source, destination)

    monkeypatch.setattr(atomic_output.os, "rename", rename)
    with pytest.raises(OSError):
        atomic_output.swap_in(str(staging), str(output))
    assert (output / "index.html").read_text(encoding="utf-8") == "cũ"
    assert not (tmp_path / "output.old").exists()


def test_static_and_attach_links_go_through_the_gate(project, secret):
    """Files an article links with {static} or {attach} are copied by
    Pelican too: same rules, documents allowed besides images."""
    before = snapshot(project / "output")
    article = project / "content/articles/xay-dung-dang/hoi-nghi/index.md"
    (article.parent / "tai-lieu.svg").write_text(SVGS["script.svg"], encoding="utf-8")
    (article.parent / "mat-khau.txt").symlink_to(secret / "passwd")
    with article.open("a", encoding="utf-8") as handle:
        handle.write("\n[Tài liệu]({static}tai-lieu.svg) và [mật khẩu]({attach}mat-khau.txt)\n")
    result = make(project, "html")
    allowed = "7z, csv, doc, docx, gif, ico, jpeg, jpg, mp3, mp4, odp, ods, odt, pdf, png, ppt, pptx, rar, rtf, txt, webp, xls, xlsx, zip"
    assert_refused(project, "html", result, before,
                   f"content/articles/xay-dung-dang/hoi-nghi/mat-khau.txt:1: {OUTSIDE.format(target=secret / 'passwd')}",
                   "content/articles/xay-dung-dang/hoi-nghi/tai-lieu.svg:1: loại tệp «.svg» không được liên kết bằng "
                   f"{{static}} hay {{attach}}; chỉ liên kết ảnh hoặc tài liệu ({allowed}). Ảnh SVG hãy xuất ra PNG "
                   "(file type «.svg» cannot be published through a {static} or {attach} link, only "
                   f"{allowed}: an SVG or page could run script on the site; export SVG as PNG)")


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_make_devserver_serves_nothing_refused(project, secret):
    """`make devserver` (not fatal) builds the rest of the site and serves
    none of what the gate refused; the refusal is printed."""
    import http.client
    import urllib.error
    import urllib.request

    images = project / "content/images"
    (images / "etc").symlink_to(secret, target_is_directory=True)
    (images / "script.svg").write_text(SVGS["script.svg"], encoding="utf-8")
    shutil.rmtree(project / "output")
    port = free_port()
    log = project / "devserver.log"
    with log.open("w") as out:
        server = subprocess.Popen(["make", "-s", "-o", ".venv/.site-requirements", "devserver", f"PORT={port}"],
                                  cwd=project, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (project / "output/index.html").exists() and time.monotonic() < deadline:
            assert server.poll() is None, log.read_text(encoding="utf-8")
            time.sleep(0.2)

        def status(path):
            """The answer's status; Pelican's server closes the connection
            without one for a file it does not have ("not served")."""
            for _ in range(100):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=10) as response:
                        return response.status
                except urllib.error.HTTPError as err:
                    return err.code
                except http.client.RemoteDisconnected:
                    return "not served"
                except (ConnectionRefusedError, urllib.error.URLError):
                    time.sleep(0.2)  # the server is still starting
            raise AssertionError("devserver did not answer")

        assert status("index.html") == 200
        assert status(PAGE) == 200
        assert status("images/emblem.png") == 200
        assert status("images/etc/passwd") == "not served"
        assert status("images/script.svg") == "not served"
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    printed = log.read_text(encoding="utf-8")
    assert f"content/images/etc:1: {FOLDER_OUTSIDE.format(target=secret)}" in printed.splitlines()
    assert f"content/images/script.svg:1: {BAD_TYPE.format(ext='.svg')}" in printed.splitlines()
    assert not marker_in(project / "output")
    assert not (project / "output/images/script.svg").exists()


def gate_case(tmp_path, name):
    """Build one hostile or harmless file in a content tree; return its path."""
    content = tmp_path / "content"
    images = content / "images"
    images.mkdir(parents=True, exist_ok=True)
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"\x89PNG\r\n\x1a\n" + MARKER.encode())
    path = images / name
    makers = {
        "anh.JPG": lambda: path.write_bytes(b"\xff\xd8\xff\xe0rest"),
        "anh.webp": lambda: path.write_bytes(b"RIFF\x00\x00\x00\x00WEBPVP8 "),
        "gia.webp": lambda: path.write_bytes(b"RIFF\x00\x00\x00\x00AVI LIST"),
        "favicon.ico": lambda: path.write_bytes(b"\x00\x00\x01\x00\x01\x00"),
        "ngoai.png": lambda: path.symlink_to(outside),
        "chuoi.png": lambda: (images / "trung-gian.png").symlink_to(outside) or path.symlink_to("trung-gian.png"),
        "gay.png": lambda: path.symlink_to("khong-co.png"),
        "ong.png": lambda: os.mkfifo(path),
        "anh.svgz": lambda: path.write_bytes(gzip.compress(SVGS["script.svg"].encode())),
        ".htaccess": lambda: path.write_text("Options +ExecCGI", encoding="utf-8"),
        "khong-duoi": lambda: path.write_text("<html>", encoding="utf-8"),
        "trang.xhtml": lambda: path.write_text("<html/>", encoding="utf-8"),
        "trong.png": lambda: path.write_bytes(b""),
    }
    makers[name]()
    return content, path


@pytest.mark.parametrize("name, refused", [
    ("anh.JPG", None), ("anh.webp", None), ("favicon.ico", None),
    ("gia.webp", "BAD_CONTENT"), ("trong.png", "BAD_CONTENT"),
    ("ngoai.png", "OUTSIDE"), ("chuoi.png", "OUTSIDE"), ("gay.png", "UNREADABLE"), ("ong.png", "NOT_REGULAR"),
    ("anh.svgz", "BAD_TYPE"), (".htaccess", "BAD_TYPE"), ("khong-duoi", "BAD_TYPE"), ("trang.xhtml", "BAD_TYPE"),
])
def test_gate_rules_for_static_files(tmp_path, name, refused):
    from portal import file_gate as gate

    content, path = gate_case(tmp_path, name)
    reason = gate.file_refusal(str(content), str(path), gate.STATIC_TYPES)
    if refused is None:
        assert reason is None
    else:
        template = getattr(gate, refused).split("{")[0]
        assert reason is not None and reason.startswith(template), reason


def test_gate_walk_refuses_folders_out_and_loops(tmp_path):
    from portal import file_gate as gate

    content = tmp_path / "content"
    (content / "images/a").mkdir(parents=True)
    (content / "images/b").mkdir()
    (content / "images/a/anh.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (content / "images/a/den-b").symlink_to("../b", target_is_directory=True)
    (content / "images/b/ve-a").symlink_to("../a", target_is_directory=True)  # a loop through two links
    (content / "images/ra-ngoai").symlink_to(tmp_path, target_is_directory=True)
    found = dict(gate.walk(str(content), str(content / "images")))
    images = str(content / "images")
    assert found == {
        f"{images}/a/anh.png": None,
        f"{images}/a/den-b/ve-a": gate.LOOP,
        f"{images}/b/ve-a/anh.png": None,
        f"{images}/b/ve-a/den-b": gate.LOOP,
        f"{images}/ra-ngoai": gate.FOLDER_OUTSIDE.format(target=tmp_path),
    }


def test_a_static_folder_that_is_itself_a_symlink_out(project, secret):
    before = snapshot(project / "output")
    images = project / "content/images"
    shutil.rmtree(images)
    images.symlink_to(secret, target_is_directory=True)
    result = make(project, "html")
    assert result.returncode != 0
    assert f"content/images:1: {FOLDER_OUTSIDE.format(target=secret)}" in result.stdout.splitlines(), result.stdout
    assert "Traceback" not in result.stdout
    assert snapshot(project / "output") == before


def test_killed_writes_leave_no_lasting_litter(tmp_path):
    from safe_cache import STALE_SECONDS, write_cache

    target = tmp_path / "ArticlesGenerator-Readers"
    old = tmp_path / ".ArticlesGenerator-Readers.abc123.tmp"   # a killed build's leftover
    recent = tmp_path / ".ArticlesGenerator-Readers.def456.tmp"  # another build writing now
    other = tmp_path / ".PagesGenerator-Readers.abc123.tmp"
    for path in (old, recent, other):
        path.write_bytes(b"partial")
    long_ago = time.time() - STALE_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    os.utime(other, (long_ago, long_ago))
    write_cache(str(target), b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, recent.name, other.name])


def test_a_build_killed_between_the_renames_is_healed_by_the_next(project):
    """Killed after `output` became `output.old` and before the staging
    folder took its place: the next build, even a failing one, serves the
    last good site again."""
    (project / "output").mkdir(exist_ok=True)
    (project / "output" / "index.html").write_text("bản tốt gần nhất", encoding="utf-8")
    os.rename(project / "output", project / "output.old")
    article = project / "content/articles/xay-dung-dang/hoi-nghi/index.md"
    article.write_text(article.read_text(encoding="utf-8").replace("Date:", "Ngay:", 1), encoding="utf-8")
    result = make(project, "html")
    assert result.returncode != 0 and "Traceback" not in result.stdout
    assert "output.old: đã khôi phục trang đang đăng" in result.stdout
    assert (project / "output" / "index.html").read_text(encoding="utf-8") == "bản tốt gần nhất"
    assert not (project / "output.old").exists()
