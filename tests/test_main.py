"""``python -m srcnn upscale``: outputs, the never-overwrite rules, failures one line each, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

import srcnn
from srcnn import factors
from srcnn.__main__ import Source, list_inputs, main, plan_outputs
from srcnn.uploads import read_image

ROOT = Path(__file__).resolve().parent.parent


def photo(path: Path, size=(40, 30), mode="RGB", seed=0, save: dict | None = None) -> Path:
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0]) + ((3,) if mode == "RGB" else ())
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path, **(save or {}))
    return path


def expected(src: Path, scale: int, method: str) -> Image.Image:
    return srcnn.upscale(read_image(src, scale, upscaling=True).image, scale, method)


def assert_lossless(out: Path, src: Path, scale: int, method: str) -> None:
    with Image.open(out) as got:
        assert got.format == "PNG"
        want = expected(src, scale, method)
        assert got.size == want.size and got.mode == want.mode
        assert np.array_equal(np.asarray(got), np.asarray(want))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "srcnn", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300)


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def given(*paths: Path) -> list[Source]:
    """Files as given on the command line: their outputs go straight under --out."""
    return [Source(p, Path(p.name)) for p in paths]


# --------------------------------------------------------------------------- planning

def test_list_inputs_expands_folders_sorted_not_recursive_once_each(tmp_path):
    d = tmp_path / "d"
    b, a = photo(d / "b.JPG", save={"format": "JPEG"}), photo(d / "a.png")
    photo(d / "sub" / "c.png")
    photo(d / ".hidden.png")
    (d / "notes.txt").write_text("not an image")
    (tmp_path / "empty").mkdir()
    files, problems, skipped, links = list_inputs([d, a, tmp_path / "missing.png", tmp_path / "empty"])
    assert links == []
    assert [f.path for f in files] == [a, b]     # a.png given again: kept once
    assert [f.rel for f in files] == [Path("a.png"), Path("b.JPG")]
    assert skipped == 2                          # .hidden.png and notes.txt (sub/ is not walked)
    assert [(p.name, why.split(" (")[0]) for p, why in problems] == [
        ("missing.png", "no such file or folder"), ("empty", "no image files in this folder")]


def test_list_inputs_recursive_keeps_the_tree_and_never_walks_the_output(tmp_path):
    d = tmp_path / "d"
    a, c = photo(d / "a.png"), photo(d / "sub" / "deeper" / "c.png")
    photo(d / ".git" / "x.png")                  # a hidden folder: passed over, counted once
    photo(d / "sub" / ".h.png")
    (d / "sub" / "readme.md").write_text("#")
    photo(d / "out" / "a_x3_residual.png")       # the output folder inside the tree
    files, problems, skipped, links = list_inputs([d], recursive=True, exclude=(d / "out",))
    assert [(f.path, f.rel) for f in files] == [(a, Path("a.png")), (c, Path("sub/deeper/c.png"))]
    assert skipped == 3 and problems == []       # .git, .h.png and readme.md; the output folder is not counted


def test_symlinked_folders_are_not_followed_but_counted_and_named(tmp_path, capsys):
    """A link to a folder (here one back to the tree's root: a loop if followed) is not walked:
    it counts once as skipped and is named in a note and in the summary."""
    d = tmp_path / "d"
    photo(d / "a.png")
    photo(tmp_path / "elsewhere" / "e.png")
    (d / "loop").symlink_to(d, target_is_directory=True)
    (d / "more").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    files, _, skipped, links = list_inputs([d], recursive=True)
    assert [f.rel for f in files] == [Path("a.png")] and skipped == 2 and links == [d / "loop", d / "more"]
    out = tmp_path / "out"
    assert main(["upscale", str(d), "--recursive", "--scale", "2", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"note: {d / 'loop'}: a symbolic link to a folder, not followed" in err
    assert (f"1 upscaled, 2 skipped (2 of them symbolic links to folders, not followed: {d / 'loop'}, "
            f"{d / 'more'}), 0 failed -> {out}") in err


def test_a_killed_runs_temporary_files_are_removed_by_the_next_run(tmp_path, capsys):
    """save_png writes .<name>.<pid>.tmp then renames; a run killed by SIGTERM leaves it. The next
    run writing to that folder removes those of processes that are gone, not a running one's."""
    src, out = photo(tmp_path / "a.png"), tmp_path / "out"
    out.mkdir()
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = out / f".a_x2_residual.png.{gone.pid}.tmp"
    running = out / f".b_x2_residual.png.{os.getppid()}.tmp"
    other = out / ".notes.tmp"
    for f in (stale, running, other):
        f.write_bytes(b"partial")
    assert main(["upscale", str(src), "--scale", "2", "--out", str(out)]) == 0
    assert not stale.exists() and running.exists() and other.exists()
    assert f"removed 1 temporary file(s) left by an interrupted run: {stale}" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == sorted([running.name, other.name, "a_x2_residual.png"])


def test_plan_outputs_names_and_collisions(tmp_path):
    a, a2 = photo(tmp_path / "x" / "a.png"), photo(tmp_path / "y" / "a.png")
    a_jpg, big_a = photo(tmp_path / "x" / "a.jpg"), photo(tmp_path / "x" / "A.bmp")
    b = photo(tmp_path / "x" / "b.tif")
    out = tmp_path / "out"
    plan = plan_outputs(given(a, a2, a_jpg, big_a, b), out, "x4", "srcnn")
    assert [(src.path, dst) for src, dst, _ in plan] == [
        (a, out / "a_x4_srcnn.png"), (a2, out / "a_x4_srcnn.png"), (a_jpg, out / "a_x4_srcnn.png"),
        (big_a, out / "A_x4_srcnn.png"), (b, out / "b_x4_srcnn.png")]
    why = [w for _, _, w in plan]
    assert why[0] is None and why[4] is None
    for w in why[1:4]:                           # the first keeps the name; case-insensitive filesystems too
        assert f"already the output of {a}" in w


def test_plan_outputs_refuses_existing_outputs_and_inputs(tmp_path):
    a = photo(tmp_path / "a.png")
    clash = photo(tmp_path / "a_x2_bicubic.png", seed=1)     # an input named like a.png's output
    old = tmp_path / "out" / "a_x2_bicubic.png"
    old.parent.mkdir()
    old.write_bytes(b"old")
    for overwrite in (False, True):
        (_, _, why_a), (_, _, why_clash) = plan_outputs(given(a, clash), tmp_path, "x2", "bicubic", overwrite)
        assert "is an input file" in why_a and why_clash is None
        # the same folder spelled differently, or reached through a link
        (tmp_path / "link").unlink(missing_ok=True)
        (tmp_path / "link").symlink_to(tmp_path)
        for out in (tmp_path / "sub" / "..", tmp_path / "link"):
            (tmp_path / "sub").mkdir(exist_ok=True)
            assert "is an input file" in plan_outputs(given(a, clash), out, "x2", "bicubic", overwrite)[0][2]
        [(_, _, why)] = plan_outputs(given(a), tmp_path / "out", "x2", "bicubic", overwrite)
        assert (why is None) if overwrite else ("already exists (--overwrite replaces it" in why)
    # a hard link to an input as the output: the input itself, refused even with --overwrite
    old.unlink()
    os.link(a, old)
    assert "is an input file" in plan_outputs(given(a), tmp_path / "out", "x2", "bicubic", True)[0][2]


# --------------------------------------------------------------------------- the command

def test_subprocess_files_and_folders_lossless_png(tmp_path):
    d = photo(tmp_path / "in" / "one.png").parent
    photo(d / "two.jpg", size=(33, 17), mode="L", save={"format": "JPEG"})
    three = photo(tmp_path / "three.bmp", size=(16, 20), seed=3)
    out = tmp_path / "out"
    r = cli("upscale", str(d), str(three), "--scale", "2", "--method", "bicubic", "--out", str(out))
    assert r.returncode == 0, r.stderr
    written = [out / "one_x2_bicubic.png", out / "two_x2_bicubic.png", out / "three_x2_bicubic.png"]
    assert r.stdout.split() == [str(p) for p in written]
    assert f"3 upscaled, 0 skipped, 0 failed -> {out}" in r.stderr
    assert "note: " in r.stderr and "Grayscale" in r.stderr            # two.jpg is gray
    assert not errors(r.stderr) and "Traceback" not in r.stderr
    for src, dst in zip([d / "one.png", d / "two.jpg", three], written):
        with Image.open(src) as im:
            w, h = im.size
        with Image.open(dst) as im:
            assert im.size == (2 * w, 2 * h)
        assert_lossless(dst, src, 2, "bicubic")
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)   # no temporary files


def test_bad_files_fail_one_line_each_and_the_rest_go_on(tmp_path, capsys):
    d = tmp_path / "in"
    good = [photo(d / "a.png"), photo(d / "c.png", seed=2)]
    (d / "b.png").write_text("not an image")
    photo(d / "tiny.png", size=(1, 1))
    (d / "empty.jpg").write_bytes(b"")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    out = tmp_path / "out"
    code = main(["upscale", str(d), str(notes), str(tmp_path / "missing"), "--method", "bicubic", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert sorted(errors(err)) == sorted([
        f"error: {d / 'b.png'}: the file is not an image that can be read here. "
        "Use a PNG, JPEG, WebP, BMP, TIFF or GIF file.",
        f"error: {d / 'empty.jpg'}: the file is empty (0 bytes).",
        f"error: {d / 'tiny.png'}: the file is 1x1 px: too small. Use at least 16x16 px.",
        f"error: {notes}: the file is not an image that can be read here. "
        "Use a PNG, JPEG, WebP, BMP, TIFF or GIF file.",
        f"error: {tmp_path / 'missing'}: no such file or folder"])
    assert "Traceback" not in err and f"2 upscaled, 0 skipped, 5 failed -> {out}" in err
    for src in good:
        assert_lossless(out / f"{src.stem}_x3_bicubic.png", src, 3, "bicubic")
    assert sorted(p.name for p in out.iterdir()) == ["a_x3_bicubic.png", "c_x3_bicubic.png"]


def test_out_is_the_input_folder_never_overwrites_an_input(tmp_path, capsys):
    d = tmp_path / "in"
    a = photo(d / "a.png")
    clash = photo(d / "a_x3_bicubic.png", seed=1)           # named like a.png's output
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    for spelled in (str(d), str(d / ".." / "in") + os.sep):
        for extra in ([], ["--overwrite"]):
            code = main(["upscale", str(d), "--method", "bicubic", "--out", spelled, *extra])
            err = capsys.readouterr().err
            assert code == 1
            assert errors(err) == [f"error: {a}: the output {Path(spelled) / 'a_x3_bicubic.png'} is an input "
                                   f"file; it is never overwritten (choose another --out)"]
            assert {p.name: p.read_bytes() for p in d.iterdir() if p.name in before} == before
            (d / "a_x3_bicubic_x3_bicubic.png").unlink()     # clash's own output: written, then cleared
    # an explicit input file and its output path given as the same file
    assert main(["upscale", str(clash), str(a), "--method", "bicubic", "--out", str(d)]) == 1
    assert {p.name: p.read_bytes() for p in d.iterdir() if p.name in before} == before


def test_existing_outputs_are_refused_unless_overwrite(tmp_path, capsys):
    a = photo(tmp_path / "a.png")
    out = tmp_path / "out"
    dst = out / "a_x2_bicubic.png"
    assert main(["upscale", str(a), "--scale", "2", "--method", "bicubic", "--out", str(out)]) == 0
    dst.write_bytes(b"someone's file")
    assert main(["upscale", str(a), "--scale", "2", "--method", "bicubic", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"error: {a}: {dst} already exists (--overwrite replaces it, --skip-existing passes it over)" in errors(err)
    assert dst.read_bytes() == b"someone's file"
    assert main(["upscale", str(a), "--scale", "2", "--method", "bicubic", "--out", str(out), "--overwrite"]) == 0
    assert_lossless(dst, a, 2, "bicubic")
    assert os.listdir(out) == [dst.name]


def test_same_stem_in_two_folders_first_wins(tmp_path, capsys):
    x, y = photo(tmp_path / "x" / "a.png"), photo(tmp_path / "y" / "a.png", seed=5)
    out = tmp_path / "out"
    assert main(["upscale", str(x), str(y), "--method", "bicubic", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert errors(err) == [f"error: {y}: its output {out / 'a_x3_bicubic.png'} is already the output of {x}; "
                           f"rename one, or upscale them to different --out folders"]
    assert_lossless(out / "a_x3_bicubic.png", x, 3, "bicubic")


def test_exif_rotation_note_and_colour_profile_kept(tmp_path, capsys):
    exif = Image.Exif()
    exif[0x0112] = 6                                        # rotate 90: the output is upright
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    src = photo(tmp_path / "phone.jpg", save={"format": "JPEG", "exif": exif, "icc_profile": icc})
    out = tmp_path / "out"
    assert main(["upscale", str(src), "--scale", "2", "--method", "bicubic", "--out", str(out)]) == 0
    assert "EXIF orientation 6 applied" in capsys.readouterr().err
    dst = out / "phone_x2_bicubic.png"
    with Image.open(dst) as im:
        assert im.size == (60, 80) and im.info.get("icc_profile") == icc and "exif" not in im.info
    assert_lossless(dst, src, 2, "bicubic")


def test_network_x3_in_process(tmp_path, capsys):
    src = photo(tmp_path / "a.png")
    out = tmp_path / "out"
    assert main(["upscale", str(src), "--out", str(out)]) == 0   # defaults: x3, residual
    assert capsys.readouterr().out.split() == [str(out / "a_x3_residual.png")]
    with Image.open(out / "a_x3_residual.png") as im:
        assert im.size == (120, 90)
    assert_lossless(out / "a_x3_residual.png", src, 3, "residual")


def test_jpeg_inputs_are_served_by_their_quality_and_the_setting_overrides_it(tmp_path, capsys):
    src = tmp_path / "a.jpg"
    with Image.open(photo(tmp_path / "a.png")) as im:
        im.save(src, quality=55)
    out = tmp_path / "out"
    assert main(["upscale", str(src), "--scale", "2", "--out", str(out)]) == 0
    assert "JPEG quality 55 (from the file): networks trained for compressed inputs" in capsys.readouterr().err
    auto = np.asarray(Image.open(out / "a_x2_residual.png"))
    assert main(["upscale", str(src), "--scale", "2", "--out", str(out), "--overwrite", "--jpeg", "clean"]) == 0
    assert "Clean input (as set)" in capsys.readouterr().err
    assert not np.array_equal(auto, np.asarray(Image.open(out / "a_x2_residual.png")))
    with Image.open(src) as im:
        assert np.array_equal(auto, np.asarray(srcnn.upscale(im, 2, jpeg="compressed")))
    assert main(["upscale", str(src), "--scale", "2", "--out", str(out), "--overwrite"]) == 0
    assert np.array_equal(auto, np.asarray(Image.open(out / "a_x2_residual.png")))


def test_a_jpeg_of_high_quality_is_served_with_its_bands_share_of_the_clean_network(tmp_path, capsys):
    src, out = tmp_path / "a.jpg", tmp_path / "out"
    with Image.open(photo(tmp_path / "a.png")) as im:
        im.save(src, quality=90)
    share = factors.compressed_share("residual", 2, 90)
    assert share                                                   # the bands mix some in at quality 90
    assert main(["upscale", str(src), "--scale", "2", "--out", str(out)]) == 0
    assert f"with {share:.0%} of the clean network's weights mixed in" in capsys.readouterr().err
    got = np.asarray(Image.open(out / "a_x2_residual.png"))
    with Image.open(src) as im:
        assert np.array_equal(got, np.asarray(srcnn.upscale(im, 2, jpeg=90)))
        assert not np.array_equal(got, np.asarray(srcnn.upscale(im, 2, jpeg="compressed")))   # share 0


@pytest.mark.parametrize("bad", ["101", "jpg", "0"])
def test_jpeg_option_refuses_what_it_cannot_read(tmp_path, capsys, bad):
    with pytest.raises(SystemExit) as e:
        main(["upscale", str(photo(tmp_path / "a.png")), "--jpeg", bad])
    assert e.value.code == 2 and "--jpeg" in capsys.readouterr().err


def test_limits_option(tmp_path, capsys):
    src = photo(tmp_path / "a.png")                         # x3 output: 120 x 90 = 0.0108 MP
    assert main(["upscale", str(src), "--method", "bicubic", "--out", str(tmp_path / "o"),
                 "--max-megapixels", "0.01"]) == 1
    assert "too large" in capsys.readouterr().err


# --------------------------------------------------------------------------- usage

def test_help_shows_defaults_and_usage_errors_exit_2(tmp_path):
    r = cli("upscale", "--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    for default in ("(default: 3)", "(default: residual)", "(default: upscaled)", "(default: 256)",
                    "(default: 64.0)", "usage: python -m srcnn upscale"):
        assert default in text
    r = cli("upscale", "x.png", "--scale", "9")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.splitlines()[-1] == ("python -m srcnn upscale: error: argument --scale: must be a number "
                                         "from 1.1 to 8 (e.g. 2, 2.5 or 3), got '9'")


@pytest.mark.parametrize("argv", [[], ["upscale"], ["upscale", "a.png", "--scale", "9"],
                                  ["upscale", "a.png", "--scale", "0"], ["upscale", "a.png", "--scale", "1"],
                                  ["upscale", "a.png", "--scale", "abc"], ["upscale", "a.png", "--scale", "nan"],
                                  ["upscale", "a.png", "--scale", "2", "--width", "100"],
                                  ["upscale", "a.png", "--width", "0"], ["upscale", "a.png", "--height", "x"],
                                  ["upscale", "a.png", "--overwrite", "--skip-existing"],
                                  ["upscale", "a.png", "--method", "lanczos"], ["upscale", "a.png", "--tile", "0"],
                                  ["upscale", "a.png", "--max-megapixels", "-1"], ["frobnicate"]])
def test_usage_errors_in_process(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert "usage: python -m srcnn" in capsys.readouterr().err


def test_out_is_a_file_is_a_usage_error(tmp_path, capsys):
    src = photo(tmp_path / "a.png")
    before = src.read_bytes()
    with pytest.raises(SystemExit) as e:
        main(["upscale", str(src), "--out", str(src)])
    assert e.value.code == 2 and "is a file, not a folder" in capsys.readouterr().err
    assert src.read_bytes() == before


# --------------------------------------------------------------------------- any factor, trees, metadata

def test_any_factor_and_target_sizes(tmp_path, capsys):
    src = photo(tmp_path / "a.png", size=(41, 30))
    out = tmp_path / "out"
    assert main(["upscale", str(src), "--scale", "2.5", "--out", str(out)]) == 0
    assert main(["upscale", str(src), "--width", "100", "--out", str(out)]) == 0
    assert main(["upscale", str(src), "--height", "200", "--method", "srcnn", "--out", str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out / n) for n in (
        "a_x2.5_residual.png", "a_w100_residual.png", "a_h200_srcnn.png")]
    sizes = {p.name: Image.open(p).size for p in out.iterdir()}
    assert sizes == {"a_x2.5_residual.png": (103, 75),          # MATLAB: ceil(41 * 2.5), ceil(30 * 2.5)
                     "a_w100_residual.png": (100, 73),          # 30 * 100 / 41 = 73.2
                     "a_h200_srcnn.png": (273, 200)}            # 41 * 200 / 30 = 273.3
    with Image.open(out / "a_x2.5_residual.png") as got:
        want = srcnn.upscale(Image.open(src), 2.5)
        assert np.array_equal(np.asarray(got), np.asarray(want))


def test_target_size_out_of_range_fails_that_file_only(tmp_path, capsys):
    small, big = photo(tmp_path / "small.png", size=(20, 20)), photo(tmp_path / "big.png", size=(200, 100))
    assert main(["upscale", str(small), str(big), "--width", "300", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert errors(err) == [f"error: {small}: a width of 300 px is x15 of this 20x20 image; "
                           "factors from 1.1 to 8 are possible"]
    assert "1 upscaled, 0 skipped, 1 failed" in err


def test_recursive_tree_hidden_broken_and_resume(tmp_path, capsys):
    tree = tmp_path / "tree"
    a, b = photo(tree / "a.png"), photo(tree / "x" / "y" / "b.jpg", save={"format": "JPEG"})
    whole = photo(tmp_path / "whole.png", size=(64, 64)).read_bytes()
    (tree / "x" / "broken.png").write_bytes(whole[:len(whole) // 2])     # cut off half way
    (tree / "x" / "notes.txt").write_text("not an image")
    photo(tree / ".cache" / "c.png")
    photo(tree / "x" / ".d.png")
    out = tree / "up"                                           # inside the tree: never walked
    before = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    argv = ["upscale", str(tree), "--recursive", "--scale", "2", "--method", "bicubic", "--out", str(out)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert errors(err) == [f"error: {tree / 'x' / 'broken.png'}: "
                           "the file could not be decoded (truncated or corrupt file)."]
    assert f"2 upscaled, 3 skipped, 1 failed -> {out}" in err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "a_x2_bicubic.png", "x/y/b_x2_bicubic.png"]
    assert_lossless(out / "x" / "y" / "b_x2_bicubic.png", b, 2, "bicubic")
    assert all(p.read_bytes() == data for p, data in before.items())     # inputs untouched
    # resume: a finished output is passed over, a missing one is made again
    (out / "a_x2_bicubic.png").unlink()
    stamp = (out / "x" / "y" / "b_x2_bicubic.png").stat().st_mtime_ns
    assert main([*argv, "--skip-existing"]) == 1
    captured = capsys.readouterr()
    assert captured.out.split() == [str(out / "a_x2_bicubic.png")]
    assert f"1 upscaled, 4 skipped, 1 failed -> {out}" in captured.err
    assert (out / "x" / "y" / "b_x2_bicubic.png").stat().st_mtime_ns == stamp
    assert_lossless(out / "a_x2_bicubic.png", a, 2, "bicubic")


def test_png_carries_exif_without_orientation_dpi_scaled_and_icc(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6                                            # rotated: written upright
    exif[0x010F] = "Camera Maker"
    exif[0x0131] = "SRCNN test"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    src = photo(tmp_path / "p.jpg", size=(40, 30), save={"format": "JPEG", "exif": exif, "icc_profile": icc,
                                                         "dpi": (300, 150)})
    out = tmp_path / "out"
    assert main(["upscale", str(src), "--scale", "2.5", "--method", "bicubic", "--out", str(out)]) == 0
    with Image.open(out / "p_x2.5_bicubic.png") as im:
        assert im.size == (75, 100)                             # upright: 30 x 40 times 2.5
        got = im.getexif()
        assert got.get(0x010F) == "Camera Maker" and got.get(0x0131) == "SRCNN test" and 0x0112 not in got
        assert im.info["icc_profile"] == icc
        # the quarter turn swaps the axes' DPI; each is multiplied by its axis' factor (PNG keeps px/m)
        assert im.info["dpi"] == pytest.approx((150 * 2.5, 300 * 2.5), abs=0.1)
