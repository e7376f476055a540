#!/usr/bin/env python3
"""Writes a synthetic MovieLens-format dataset of any size, for training-loop and speed checks on a
machine without a large real dataset: OUT/movies.csv (title with a year, two genres), OUT/ratings.csv
(each user walks the catalogue in small steps with occasional jumps, so the next item is partly
predictable) and OUT/embeddings.npy (random float32 rows, 384 wide, catalogue order).

Usage: scripts/synthetic_dataset.py OUT USERS ITEMS MEAN_ITEMS_PER_USER
e.g.   scripts/synthetic_dataset.py /tmp/synth 6040 3700 165    # about 1M ratings
"""
import os
import random
import struct
import sys


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    out, users, items, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    os.makedirs(out, exist_ok=True)
    rng = random.Random(7)
    genres = ["Action", "Comedy", "Drama", "Horror", "Sci-Fi",
              "Romance", "Thriller", "Animation", "Documentary", "Crime"]
    with open(os.path.join(out, "movies.csv"), "w") as f:
        f.write("movieId,title,genres\n")
        for i in range(items):
            first, second = genres[i % len(genres)], genres[(i * 7 + 3) % len(genres)]
            f.write(f"{i + 1},Movie {i + 1} ({1950 + i % 70}),{first}|{second}\n")
    with open(os.path.join(out, "ratings.csv"), "w") as f:
        f.write("userId,movieId,rating,timestamp\n")
        for u in range(users):
            n = max(20, int(rng.expovariate(1 / per)))
            cur, t, seen = rng.randrange(items), 1_000_000_000 + rng.randrange(10**8), set()
            for _ in range(n):
                cur = (cur + rng.choice([1, 1, 2, 3, 10, rng.randrange(items)])) % items
                if cur in seen:
                    continue
                seen.add(cur)
                t += rng.randrange(1, 1000)
                f.write(f"{u + 1},{cur + 1},4.0,{t}\n")
    dim = 384
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (items, dim)
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    with open(os.path.join(out, "embeddings.npy"), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        for _ in range(items):
            f.write(struct.pack(f"<{dim}f", *(rng.gauss(0, 1) for _ in range(dim))))


if __name__ == "__main__":
    main()
