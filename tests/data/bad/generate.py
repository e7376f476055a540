#!/usr/bin/env python3
"""Writes the bad-file corpus under tests/data/bad/ (one dataset folder per case).

Run from anywhere: `python3 tests/data/bad/generate.py`. Only the standard library is used; the
output is deterministic, so re-running it leaves `git status` clean. The two "huge line" cases are
not here: tests/bad_files.rs generates them into a temp folder at run time (they are 1 MiB).
See docs/robustness.md for what each case checks and the message the CLI prints.
"""

import json
import os
import random
import shutil
import struct

ROOT = os.path.dirname(os.path.abspath(__file__))

# A valid MovieLens folder that survives the 5-core filter: 6 movies, 6 users rating movies 1-5,
# and one extra rating of movie 6 (dropped by the filter but still in the catalogue).
MOVIES = [
    "movieId,title,genres",
    "1,Toy Story (1995),Adventure|Animation",
    '2,"American President, The (1995)",Comedy|Drama|Romance',
    "3,Heat (1995),Action|Crime",
    "4,Casino (1995),Crime|Drama",
    "5,Sabrina (1995),Comedy|Romance",
    "6,Unrated (2000),(no genres listed)",
]


def ratings_rows():
    rows = ["userId,movieId,rating,timestamp"]
    for u in range(1, 7):
        for m in range(1, 6):
            rows.append(f"{u},{m},4.0,{1000 + m}")
    rows.append("1,6,3.0,900")
    return rows  # 32 lines: header + 31 ratings


def text(lines, eol="\n"):
    return (eol.join(lines) + eol).encode("utf-8")


def case(name, files):
    d = os.path.join(ROOT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for fname, content in files.items():
        with open(os.path.join(d, fname), "wb") as f:
            f.write(content)


def movielens(movies=None, ratings=None, **extra):
    files = {
        "movies.csv": text(MOVIES) if movies is None else movies,
        "ratings.csv": text(ratings_rows()) if ratings is None else ratings,
    }
    files.update(extra)
    return files


def with_line(lines, lineno, replacement):
    """`lines` with 1-based line `lineno` replaced."""
    out = list(lines)
    out[lineno - 1] = replacement
    return out


def npy(shape, values, descr="<f4", header=None):
    if header is None:
        shape_txt = "(" + ", ".join(str(s) for s in shape) + (",)" if len(shape) == 1 else ")")
        header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}"
    pad = (64 - (10 + len(header) + 1) % 64) % 64
    header = header + " " * pad + "\n"
    fmt = {"<f4": "<f", "<f8": "<d", "<i4": "<i"}[descr]
    body = b"".join(struct.pack(fmt, v) for v in values)
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + body


def emb_values(rows, dim):
    return [((i * 31 % 17) / 17.0) for i in range(rows * dim)]


def garbage(seed, n):
    rng = random.Random(seed)
    return bytes(rng.randrange(256) for _ in range(n))


def semantic_ids(lines):
    return text(["item_id,c1,c2,collision"] + lines)


GOOD_IDS = ["1,0,1,0", "2,1,2,0", "3,2,3,0", "4,3,0,0", "5,0,2,0", "6,1,3,0"]

RB_ITEM = ["item_id:token\tmovie_title:token_seq\tgenre:token_seq"] + [
    f"{i}\tMovie {i}\tDrama" for i in range(1, 7)
]


def rb_inter(header=True, bad=None):
    rows = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"] if header else []
    for u in range(1, 7):
        for m in range(1, 6):
            rows.append(f"{u}\t{m}\t4\t{1000 + m}")
    if bad:
        rows = with_line(rows, bad[0], bad[1])
    return text(rows)


PAIR_ITEMS = ["item_id,title,description"] + [f"i{i},Item {i},thing number {i}" for i in range(1, 7)]


def pair_inter(bad=None, header="user,item,timestamp"):
    rows = [header]
    for u in range(1, 7):
        for m in range(1, 6):
            rows.append(f"u{u},i{m},{1000 + m}")
    if bad:
        rows = with_line(rows, bad[0], bad[1])
    return text(rows)


def main():
    for entry in os.listdir(ROOT):
        if os.path.isdir(os.path.join(ROOT, entry)):
            shutil.rmtree(os.path.join(ROOT, entry))

    r = ratings_rows()
    # --- MovieLens -------------------------------------------------------------------------------
    # The file was cut off in the middle of its last row (no trailing newline).
    case("ml_truncated_row", movielens(ratings=("\n".join(r[:-1]) + "\n6,5,4.").encode()))
    # A quoted title whose closing quote is missing: the rest of the file becomes one field.
    case("ml_unclosed_quote", movielens(movies=text(with_line(MOVIES, 4, '3,"Heat (1995),Action|Crime'))))
    case("ml_semicolons", movielens(movies=text([l.replace(",", ";") for l in MOVIES[:1] + MOVIES[3:]])))
    case("ml_semicolon_row", movielens(ratings=text(with_line(r, 9, "2;3;4.0;1003"))))
    case("ml_missing_column", movielens(movies=text(with_line(MOVIES, 1, "id,title,genres"))))
    case("ml_nan_timestamp", movielens(ratings=text(with_line(r, 5, "1,4,4.0,NaN"))))
    case("ml_nan_rating", movielens(ratings=text(with_line(r, 5, "1,4,NaN,1004"))))
    case("ml_duplicate_ids", movielens(movies=text(with_line(MOVIES, 5, "2,Casino (1995),Crime|Drama"))))
    case("ml_unknown_item", movielens(ratings=text(with_line(r, 7, "2,99,4.0,1001"))))
    case("ml_header_only", movielens(movies=text(MOVIES[:1])))
    case("ml_ratings_header_only", movielens(ratings=text(r[:1])))
    case("ml_zero_bytes", movielens(movies=b""))
    case("ml_binary_garbage", movielens(movies=garbage(1, 300)))
    latin1 = with_line(MOVIES, 4, "3,Am\xe9lie (2001),Comedy|Romance")
    case("ml_latin1", movielens(movies="\n".join(latin1).encode("latin-1") + b"\n"))
    case("ml_tags_truncated", movielens(**{"tags.csv": text(["userId,movieId,tag,timestamp", "1,1,pixar,1", "2,1"])}))
    # Tolerated: Windows line endings and a UTF-8 byte-order mark.
    case("ml_crlf", movielens(movies=text(MOVIES, "\r\n"), ratings=text(r, "\r\n")))
    case("ml_bom", movielens(movies=b"\xef\xbb\xbf" + text(MOVIES)))

    # --- RecBole atomic files --------------------------------------------------------------------
    case("rb_no_header", {"ml.item": text(RB_ITEM), "ml.inter": rb_inter(header=False)})
    case("rb_untyped_header", {"ml.item": text(["item_id\tmovie_title\tgenre"] + RB_ITEM[1:]),
                               "ml.inter": text([l if i else "user_id\titem_id\trating\ttimestamp"
                                                 for i, l in enumerate(rb_inter().decode().splitlines())])})
    case("rb_bad_timestamp", {"ml.item": text(RB_ITEM), "ml.inter": rb_inter(bad=(4, "1\t3\t4\tyesterday"))})
    case("rb_commas", {"ml.item": text([l.replace("\t", ",") for l in RB_ITEM]), "ml.inter": rb_inter()})
    case("rb_commas_inter", {"ml.item": text(RB_ITEM), "ml.inter": text([l.replace("\t", ",") for l in rb_inter().decode().splitlines()])})
    case("rb_unknown_item", {"ml.item": text(RB_ITEM), "ml.inter": rb_inter(bad=(6, "2\t77\t4\t1001"))})

    # --- items.csv + interactions.csv ------------------------------------------------------------
    case("pair_missing_id", {"items.csv": text(["name,description"] + [l.split(",", 1)[1] for l in PAIR_ITEMS[1:]]),
                             "interactions.csv": pair_inter()})
    case("pair_no_timestamp", {"items.csv": text(PAIR_ITEMS),
                               "interactions.csv": text([",".join(l.split(",")[:2]) for l in pair_inter().decode().splitlines()])})
    case("pair_inf_timestamp", {"items.csv": text(PAIR_ITEMS), "interactions.csv": pair_inter(bad=(8, "u2,i2,inf"))})
    case("pair_unknown_item", {"items.csv": text(PAIR_ITEMS), "interactions.csv": pair_inter(bad=(3, "u1,i404,1002"))})
    case("pair_empty_id", {"items.csv": text(with_line(PAIR_ITEMS, 3, ",Item 2,thing number 2")),
                           "interactions.csv": pair_inter()})
    case("pair_duplicate_ids", {"items.csv": text(with_line(PAIR_ITEMS, 7, "i1,Item 6,thing number 6")),
                                "interactions.csv": pair_inter()})

    # --- embeddings (folder = valid MovieLens + a bad embeddings file) ---------------------------
    case("emb_wrong_rows", movielens(**{"embeddings.npy": npy((5, 8), emb_values(5, 8))}))
    case("emb_one_dim", movielens(**{"embeddings.npy": npy((48,), emb_values(6, 8))}))
    case("emb_garbage_header", movielens(**{"embeddings.npy": npy((6, 8), emb_values(6, 8), header="hello, world")}))
    case("emb_int_dtype", movielens(**{"embeddings.npy": npy((6, 8), [int(v * 10) for v in emb_values(6, 8)], descr="<i4")}))
    nan = emb_values(6, 8)
    nan[2 * 8 + 3] = float("nan")
    case("emb_nan", movielens(**{"embeddings.npy": npy((6, 8), nan)}))
    case("emb_truncated", movielens(**{"embeddings.npy": npy((6, 8), emb_values(6, 8))[:-92]}))
    case("emb_garbage", movielens(**{"embeddings.npy": garbage(2, 256)}))
    case("emb_zero_bytes", movielens(**{"embeddings.npy": b""}))
    st_header = b'{"embeddings":{"dtype":"F32","shape":[6,8],"data_offsets":[0,1'
    case("emb_safetensors_bad_header",
         movielens(**{"embeddings.safetensors": struct.pack("<Q", len(st_header) + 40) + st_header + bytes(40)}))
    good_header = json.dumps({"embeddings": {"dtype": "F32", "shape": [4, 8], "data_offsets": [0, 128]}}).encode()
    good_header += b" " * ((8 - len(good_header) % 8) % 8)
    case("emb_safetensors_wrong_rows",
         movielens(**{"embeddings.safetensors": struct.pack("<Q", len(good_header)) + good_header
                      + b"".join(struct.pack("<f", v) for v in emb_values(4, 8))}))

    # --- semantic_ids.csv (folder = valid MovieLens + a bad IDs file) ----------------------------
    case("sid_wrong_columns", movielens(**{"semantic_ids.csv": semantic_ids(with_line(GOOD_IDS, 3, "3,2,0"))}))
    case("sid_unknown_item", movielens(**{"semantic_ids.csv": semantic_ids(GOOD_IDS + ["42,0,0,1"])}))
    case("sid_non_numeric", movielens(**{"semantic_ids.csv": semantic_ids(with_line(GOOD_IDS, 2, "2,1,abc,0"))}))
    case("sid_negative_code", movielens(**{"semantic_ids.csv": semantic_ids(with_line(GOOD_IDS, 4, "4,-3,0,0"))}))
    case("sid_missing_item", movielens(**{"semantic_ids.csv": semantic_ids(GOOD_IDS[:-1])}))
    case("sid_duplicate_row", movielens(**{"semantic_ids.csv": semantic_ids(GOOD_IDS + ["2,3,3,0"])}))
    case("sid_shared_id", movielens(**{"semantic_ids.csv": semantic_ids(with_line(GOOD_IDS, 5, "5,0,1,0"))}))


if __name__ == "__main__":
    main()
