"""A synthetic English-language person master with duplicates and hard negatives.

Written for issue 18 (an English person data set configured without touching Python), on
its own: nothing here comes from `training/demo_data/` or `benchmarks/second_data.py`.
Persons as a Western CRM, loyalty or patient register holds them: first name, last name,
date of birth, street address, city and e-mail, in their own columns. Names are a mix of
English, Irish, Spanish, German, French, Korean, Japanese, Vietnamese and Chinese (pinyin)
ones, so accents, apostrophes, hyphens, particles and two-part given names all occur.

What it produces, for a seed (deterministic: one `random.Random(seed)`):
- `persons.csv`: `record_id, first_name, last_name, dob, address, city, email`;
- `truth.csv`: `record_id, entity_id, group_id, cause`: `group_id` names the hard-negative
  group an entity belongs to (empty for most), `cause` its kind:
  - `namesake`: two or three people with one first and last name, in one city;
  - `twins`: one last name, one date of birth, one address, different first names;
  - `father_son`: one first and last name and one address, born 20–35 years apart; the son
    written "Jr." (in the last-name column) in most of his records, the father "Sr." in some.

Noise on the duplicates of an entity (up to six records each): typos (a letter swapped,
dropped, doubled or replaced) in names, e-mails and addresses; first and last name swapped;
nicknames (Bob for Robert, Bill for William, Peggy for Margaret …); an initial for the first
name ("J."); accents dropped or upper case; two-part given names written "Jun Ho", "Junho"
or "Jun-Ho"; the whole name in the first-name column ("Smith, John"); dates of birth with a
digit off or day and month swapped; missing values; moves (another address and city); a new
mailbox.

    python benchmarks/english_data.py --records 10000 --seed 3 --out /tmp/english

Measured through the CLI (the config declares every column; no Python):

    er train --config configs/english_persons.yaml --input /tmp/english/persons.csv \\
        --name english_persons --no-charts
    er dedup --config configs/english_persons.yaml --model models:/english_persons/1 \\
        --input /tmp/english/persons.csv --out /tmp/english/job
    er evaluate --out /tmp/english/job --truth /tmp/english/truth.csv --no-mlflow

Measured so (10,002 records, seed 3): pairwise P 0.875, R 0.965, F1 0.918, B-cubed F1
0.963; plain Splink on the same columns (benchmarks/english_accuracy.py) F1 0.900, B-cubed
F1 0.957.
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import date, timedelta
from pathlib import Path

COLUMNS = ["record_id", "first_name", "last_name", "dob", "address", "city", "email"]
CAUSES = ("namesake", "twins", "father_son")

# ------------------------------------------------------------------------------ vocabulary

# (given name, its nicknames); frequent names first (names are drawn with Zipf-like weights)
MALE = [
    ("James", "Jim Jimmy Jamie"), ("John", "Jack Johnny"), ("Robert", "Bob Bobby Rob"),
    ("Michael", "Mike Mikey"), ("William", "Bill Billy Will"), ("David", "Dave"),
    ("Richard", "Rick Dick Rich"), ("Joseph", "Joe Joey"), ("Thomas", "Tom Tommy"),
    ("Charles", "Charlie Chuck"), ("Christopher", "Chris"), ("Daniel", "Dan Danny"),
    ("Matthew", "Matt"), ("Anthony", "Tony"), ("Donald", "Don"), ("Steven", "Steve"),
    ("Andrew", "Andy Drew"), ("Kenneth", "Ken Kenny"), ("Joshua", "Josh"), ("Kevin", ""),
    ("Brian", ""), ("George", ""), ("Edward", "Ed Eddie Ted"), ("Ronald", "Ron"),
    ("Timothy", "Tim"), ("Jason", ""), ("Jeffrey", "Jeff"), ("Ryan", ""), ("Jacob", "Jake"),
    ("Gary", ""), ("Nicholas", "Nick"), ("Eric", ""), ("Jonathan", "Jon"), ("Stephen", "Steve"),
    ("Larry", ""), ("Justin", ""), ("Scott", ""), ("Brandon", ""), ("Benjamin", "Ben"),
    ("Samuel", "Sam"), ("Gregory", "Greg"), ("Frank", ""), ("Patrick", "Pat"),
    ("Raymond", "Ray"), ("Peter", "Pete"), ("Henry", "Hank"), ("Walter", "Walt"),
    ("Frederick", "Fred"), ("Lawrence", "Larry"), ("Douglas", "Doug"), ("José", ""),
    ("Jean-Pierre", ""), ("Jun Ho", ""), ("Min Jun", ""), ("Hiroshi", ""), ("Kenji", ""),
    ("Seán", ""), ("Łukasz", ""), ("Jürgen", ""), ("François", ""), ("Wei", ""),
    ("Xiaoming", ""), ("Jianguo", ""), ("Minh", ""), ("Ahmed", ""), ("Mohammed", ""),
    ("Carlos", ""), ("Luis", ""), ("Diego", ""), ("Rafael", ""), ("Ivan", ""),
]
FEMALE = [
    ("Mary", ""), ("Patricia", "Pat Patty Trish"), ("Jennifer", "Jen Jenny"),
    ("Linda", ""), ("Elizabeth", "Liz Beth Betty"), ("Barbara", "Barb"), ("Susan", "Sue"),
    ("Jessica", "Jess"), ("Sarah", ""), ("Karen", ""), ("Nancy", ""), ("Lisa", ""),
    ("Margaret", "Maggie Peggy Meg"), ("Betty", ""), ("Sandra", ""), ("Ashley", ""),
    ("Dorothy", "Dot"), ("Kimberly", "Kim"), ("Emily", ""), ("Donna", ""),
    ("Michelle", ""), ("Carol", ""), ("Amanda", "Mandy"), ("Melissa", "Missy"),
    ("Deborah", "Debbie Deb"), ("Stephanie", ""), ("Rebecca", "Becky"), ("Laura", ""),
    ("Sharon", ""), ("Cynthia", "Cindy"), ("Kathleen", "Kathy"), ("Amy", ""),
    ("Katherine", "Kate Katie Kathy"), ("Victoria", "Vicky"), ("Judith", "Judy"),
    ("Mary Ann", ""), ("Anne-Marie", ""), ("María José", ""), ("Zoë", ""), ("Chloé", ""),
    ("Siobhán", ""), ("Hye Jin", ""), ("Yuki", ""), ("Mei", ""), ("Xiaohong", ""),
    ("Lan", ""), ("Fatima", ""), ("Sofía", ""), ("Ingrid", ""), ("Renée", ""),
]
LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis",
    "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker",
    "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips",
    "Evans", "Turner", "Torres", "Parker", "Collins", "Edwards", "Stewart", "Morris",
    "Nguyen", "Murphy", "Rivera", "Cook", "Rogers", "Morgan", "Peterson", "Cooper", "Reed",
    "Bailey", "Bell", "Gómez", "Kelly", "Howard", "Ward", "Cox", "Díaz", "Richardson",
    "Wood", "Watson", "Brooks", "Bennett", "Gray", "James", "Reyes", "Cruz", "Hughes",
    "Price", "Myers", "Long", "Foster", "Sanders", "Ross", "Morales", "Powell", "Sullivan",
    "Russell", "Ortiz", "Jenkins", "Gutiérrez", "Perry", "Butler", "Barnes", "Fisher",
    "Henderson", "Coleman", "Simmons", "Patterson", "Jordan", "Reynolds", "O'Brien",
    "O'Connor", "McDonald", "MacLeod", "Müller", "Schröder", "Weiß", "van der Berg",
    "de la Cruz", "Smith-Jones", "Kim", "Park", "Choi", "Takahashi", "Tanaka", "Suzuki",
    "Watanabe", "Tran", "Pham", "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang",
    "Zhao", "Kowalski", "Nowak", "Dubois", "Lefèvre", "Rossi", "Ferrari", "Novak", "Hansen",
]
PINYIN_GIVEN = {"Wei", "Xiaoming", "Jianguo", "Mei", "Xiaohong", "Lan"}
PINYIN_LAST = {"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao"}
STREETS = [
    "Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park",
    "Walnut", "Sunset", "Lincoln", "Church", "River", "Highland", "Mill", "Spring", "Forest",
    "Jackson", "Chestnut", "Meadow", "Willow", "Franklin", "Cherry", "Ridge", "Valley",
]
STREET_TYPES = [("Street", "St"), ("Avenue", "Ave"), ("Road", "Rd"), ("Drive", "Dr"),
                ("Lane", "Ln"), ("Court", "Ct"), ("Boulevard", "Blvd")]
CITIES = [
    "New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Philadelphia",
    "San Antonio", "San Diego", "Dallas", "San Jose", "Austin", "Jacksonville", "Columbus",
    "Charlotte", "Indianapolis", "Seattle", "Denver", "Boston", "Nashville", "Portland",
    "Detroit", "Memphis", "Louisville", "Baltimore", "Milwaukee", "Albuquerque", "Tucson",
    "Fresno", "Sacramento", "Atlanta", "Omaha", "Raleigh", "Miami", "Cleveland", "Tampa",
    "Pittsburgh", "Cincinnati", "St. Louis", "Orlando", "Buffalo", "Madison", "Boise",
]
PROVIDERS = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "aol.com",
             "icloud.com", "proton.me", "comcast.net"]


def _zipf(items: list, rnd: random.Random, s: float = 0.9):
    weights = [1 / (i + 1) ** s for i in range(len(items))]
    return rnd.choices(items, weights=weights)[0]


# ------------------------------------------------------------------------------ noise


def _typo(text: str, rnd: random.Random) -> str:
    """One keying error: a letter replaced, dropped, doubled, or two swapped."""
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 3:
        return text
    i = rnd.choice(letters[1:])  # the first letter is rarely wrong
    kind = rnd.choice(("replace", "drop", "double", "swap"))
    if kind == "replace":
        c = rnd.choice("abcdefghijklmnopqrstuvwxyz")
        return text[:i] + (c.upper() if text[i].isupper() else c) + text[i + 1:]
    if kind == "drop":
        return text[:i] + text[i + 1:]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    if i + 1 < len(text) and text[i + 1].isalpha():
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text[:i - 1] + text[i] + text[i - 1] + text[i + 1:]


def _plain(text: str) -> str:
    import unicodedata

    t = text.replace("ß", "ss").replace("Ł", "L").replace("ł", "l")
    return "".join(c for c in unicodedata.normalize("NFKD", t) if not unicodedata.combining(c))


def _given_variant(given: str, rnd: random.Random) -> str:
    """A two-part given name as people write it: "Jun Ho", "Junho", "Jun-Ho"."""
    parts = given.replace("-", " ").split()
    if len(parts) < 2:
        return given
    return rnd.choice((" ".join(parts), "".join(parts[:1] + [p.lower() for p in parts[1:]]),
                       "-".join(parts)))


def _mailbox(first: str, last: str, born: date, rnd: random.Random) -> str:
    f = "".join(c for c in _plain(first).lower() if c.isalpha())
    s = "".join(c for c in _plain(last).lower() if c.isalpha())
    box = rnd.choice((f"{f}.{s}", f"{f[0]}{s}", f"{f}{s}{born.year % 100:02d}", f"{f}_{s}",
                      f"{s}.{f}", f"{f}{rnd.randint(1, 999)}"))
    return f"{box}@{rnd.choice(PROVIDERS)}"


def _address(rnd: random.Random) -> str:
    name, (full, _abbr) = rnd.choice(STREETS), rnd.choice(STREET_TYPES)
    return f"{rnd.randint(1, 9999)} {name} {full}"


def _address_variant(addr: str, rnd: random.Random) -> str:
    for full, abbr in STREET_TYPES:
        if addr.endswith(" " + full) and rnd.random() < 0.4:
            return addr[: -len(full)] + abbr + rnd.choice(("", "."))
    return _typo(addr, rnd) if rnd.random() < 0.15 else addr


def _dob_variant(born: date, rnd: random.Random) -> str:
    r = rnd.random()
    if r < 0.05:  # a digit off
        s = born.isoformat()
        i = rnd.choice([2, 3, 6, 9])
        return s[:i] + str((int(s[i]) + rnd.choice((1, 9))) % 10) + s[i + 1:]
    if r < 0.08 and born.day <= 12 and born.day != born.month:  # day and month swapped
        return f"{born.year:04d}-{born.day:02d}-{born.month:02d}"
    return born.isoformat()


# ------------------------------------------------------------------------------ entities


def _person(rnd: random.Random, *, last: str | None = None, born: date | None = None,
            city: str | None = None, address: str | None = None,
            given: tuple[str, str] | None = None) -> dict:
    first, nicks = given or _zipf(rnd.choice((MALE, FEMALE)), rnd, 0.6)
    last = last or (rnd.choice(sorted(PINYIN_LAST)) if first in PINYIN_GIVEN and rnd.random() < 0.8
                    else _zipf(LAST, rnd, 0.5))
    born = born or date(1940, 1, 1) + timedelta(days=rnd.randint(0, 365 * 65))
    return {"first": first, "nicks": nicks.split(), "last": last, "born": born,
            "city": city or _zipf(CITIES, rnd, 0.6), "address": address or _address(rnd),
            "email": None, "suffix": ""}


def _records_of(p: dict, n: int, rnd: random.Random) -> list[dict]:
    """`n` records of one person: the first nearly clean, the others noisy."""
    email = p["email"] or _mailbox(p["first"], p["last"], p["born"], rnd)
    out = []
    for k in range(n):
        noisy = k > 0 or rnd.random() < 0.3
        first, last = _given_variant(p["first"], rnd), p["last"]
        city, address, mail = p["city"], p["address"], email
        if noisy:
            r = rnd.random()
            if r < 0.15 and p["nicks"]:
                first = rnd.choice(p["nicks"])
            elif r < 0.20:
                first = first[0] + rnd.choice((".", ""))
            if rnd.random() < 0.12:
                first = _typo(first, rnd)
            if rnd.random() < 0.12:
                last = _typo(last, rnd)
            if rnd.random() < 0.1:
                first, last = _plain(first), _plain(last)
            if rnd.random() < 0.08:
                first, last = first.upper(), last.upper()
            if rnd.random() < 0.08:  # moved
                city, address = _zipf(CITIES, rnd, 0.6), _address(rnd)
            else:
                address = _address_variant(address, rnd)
            if rnd.random() < 0.12:  # another mailbox
                mail = _mailbox(p["first"], p["last"], p["born"], rnd)
            elif rnd.random() < 0.04:
                mail = _typo(mail, rnd)
        suffix = p["suffix"] if p["suffix"] and rnd.random() < p.get("suffix_rate", 0.7) else ""
        if suffix:
            last = f"{last} {suffix}"
        swap = noisy and rnd.random() < 0.06
        if swap:
            first, last = last, first
        row = {"first_name": first, "last_name": last, "dob": p["born"].isoformat(),
               "address": address, "city": city, "email": mail}
        if noisy:
            row["dob"] = _dob_variant(p["born"], rnd)
            if not swap and rnd.random() < 0.03:  # the whole name in one column
                row["first_name"] = rnd.choice((f"{last}, {first}", f"{first} {last}"))
                row["last_name"] = ""
            for col, rate in (("dob", 0.08), ("address", 0.12), ("city", 0.06),
                              ("email", 0.2), ("first_name", 0.02)):
                if rnd.random() < rate:
                    row[col] = ""
        out.append(row)
    return out


def generate(n_records: int, seed: int) -> tuple[list[dict], list[dict]]:
    """(records, truth) of about `n_records` records."""
    rnd = random.Random(seed)
    total = 0

    def size() -> int:
        return rnd.choices([1, 2, 3, 4, 5, 6], weights=[45, 25, 14, 8, 5, 3])[0]

    planned: list[tuple[dict, str, str, int]] = []
    g = 0
    while total < n_records:
        r = rnd.random()
        if r < 0.04:  # namesakes
            g += 1
            a = _person(rnd)
            group = [a] + [_person(rnd, last=a["last"], city=a["city"],
                                   given=(a["first"], " ".join(a["nicks"])))
                           for _ in range(rnd.choice((1, 1, 2)))]
            cause = "namesake"
        elif r < 0.07:  # twins
            g += 1
            a = _person(rnd)
            b = _person(rnd, last=a["last"], born=a["born"], city=a["city"],
                        address=a["address"])
            while b["first"] == a["first"]:
                b = _person(rnd, last=a["last"], born=a["born"], city=a["city"],
                            address=a["address"])
            group, cause = [a, b], "twins"
        elif r < 0.10:  # father and son
            g += 1
            son = _person(rnd, given=rnd.choice(MALE[:40]))
            father = dict(son, born=son["born"] - timedelta(days=rnd.randint(20 * 365, 35 * 365)),
                          suffix="Sr.", suffix_rate=0.2, email=None)
            son.update(suffix="Jr.", suffix_rate=0.7)
            group, cause = [father, son], "father_son"
        else:
            group, cause = [_person(rnd)], ""
        for p in group:
            n = size()
            planned.append((p, f"g{g}" if cause else "", cause, n))
            total += n
    records, truth = [], []
    for e, (p, group_id, cause, n) in enumerate(planned):
        for row in _records_of(p, n, rnd):
            records.append(row)
            truth.append({"entity_id": f"e{e}", "group_id": group_id, "cause": cause})
    order = list(range(len(records)))
    rnd.shuffle(order)
    out_rec, out_truth = [], []
    for i, j in enumerate(order):
        rid = f"r{i:06d}"
        out_rec.append({"record_id": rid, **records[j]})
        out_truth.append({"record_id": rid, **truth[j]})
    return out_rec, out_truth


def write_english(out_dir: str | Path, n_records: int = 10_000, seed: int = 3
                  ) -> tuple[Path, Path]:
    """Write `persons.csv` and `truth.csv` into `out_dir`; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    records, truth = generate(n_records, seed)
    paths = out / "persons.csv", out / "truth.csv"
    for path, rows, cols in ((paths[0], records, COLUMNS),
                             (paths[1], truth, ["record_id", "entity_id", "group_id", "cause"])):
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            w.writerows(rows)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    persons, truth = write_english(args.out, args.records, args.seed)
    print(f"{persons}\n{truth}")


if __name__ == "__main__":
    main()
