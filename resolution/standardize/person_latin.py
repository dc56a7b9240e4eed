"""Person names in Latin script (``person_name_latin``): surname and given name kept apart,
and keys that survive the ways the same person is written in Western records.

The Chinese family (``person``) reads a Latin name as pinyin and sorts its syllables, which is
right for "Zhang Wei" / "Wei Zhang" / 张伟 but scrambles other names ("Takahashi" →
"hakashita", "Lee" → "ele"). Here a name is parsed as a Western name unless it *is* pinyin:

- case and diacritics folded (José → jose, Müller → muller, Łukasz → lukasz, ß → ss);
- titles (Mr, Dr, …) dropped, generational suffixes (Jr, Sr, II, III) kept apart in
  ``suffix``, so a father and his son are told apart when the suffix is written;
- "Last, First" read as such; otherwise the last word is the surname, with its particles
  (van der Berg, de la Cruz, O'Brien → obrien);
- spaces, hyphens and apostrophes inside a name do not count ("Jun Ho" = "Junho" = "Jun-Ho");
  a middle initial after a full first name is dropped, and ``initial`` keeps the first
  letter of the given name for "J. Smith";
- ``given_root``: the formal name behind a common English nickname (Bob → robert);
- ``key``: the full name insensitive to order ("Smith, John" = "John Smith" = "Smith John");
  for a pinyin name (every word pinyin and one end a Chinese surname) the key is its sorted
  syllables, the key the Chinese family gives 王伟, so "Wang Wei", "Wei Wang" and 王伟 meet.

A name given in two columns (``person_name_latin(given, surname)``: the config's
``surname_column``) is taken in that order, unless the surname column holds a frequent given
name and the given-name column does not ("Wilson" / "Mary": entered the wrong way round). Chinese characters go through the Chinese
family, their surname and given name as pinyin. Pure, cached, never raises.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from resolution.standardize.customer import _common_surnames
from resolution.standardize.person import (
    _COMPOUND_SURNAMES,
    _SURNAME_PINYIN,
    _char_pinyin,
    _person,
    _segment,
    _syllables,
)
from resolution.standardize.text import _CJK, _cached, _clean, _words, is_placeholder


class LatinPersonName(NamedTuple):
    std: str | None  # folded, "given surname", without titles and suffix
    surname: str | None  # family name, particles joined: 'vanderberg', 'obrien'
    given: str | None  # given names joined, no spaces or hyphens: 'junho', 'jeanpierre'
    given_root: str | None  # the formal name of a nickname given name: 'robert' for bob
    initial: str | None  # first letter of the given name
    suffix: str | None  # jr, sr, ii, iii, iv
    key: str | None  # order-insensitive full name: 'johnsmith'; pinyin: sorted syllables


_NONE = LatinPersonName(None, None, None, None, None, None, None)

# letters NFKD does not take apart
_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d",
                       "ð": "d", "þ": "th", "ı": "i", "ħ": "h", "ŀ": "l"})
_RX_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# apostrophes and hyphens join the parts of one name (O'Brien, Jean-Pierre, Smith-Jones);
# spaces, dots and commas separate names
_RX_JOINERS = re.compile(r"['’‘`´\-‐‑‒–]")
_RX_WORD = re.compile(r"[a-z0-9]+")
_TITLES = frozenset(_words("""mr mrs ms miss mx dr prof sir madam mister dame lord lady rev fr
    herr frau mme mlle sr sra srta don dona"""))
_SUFFIXES = {"jr": "jr", "junior": "jr", "sr": "sr", "senior": "sr", "ii": "ii", "iii": "iii",
             "iv": "iv", "2nd": "ii", "3rd": "iii"}
# honours and degrees written after a name
_POSTNOMINALS = frozenset(_words("phd md esq dds mba jd cpa rn"))
_PARTICLES = frozenset(_words("""van von der den de del della la le du da di dos das do ter
    ten st ste bin ibn al el mac"""))
# "sr" is a title in Spanish (Sr. García) and a suffix in English (John Smith Sr.): a
# suffix at the end, a title at the front

# Common English nicknames → the formal given name (one formal name each; a nickname
# shared by several, Alex or Chris, maps to the most frequent).
_NICKNAMES: dict[str, str] = {
    nick: formal
    for formal, nicks in {
        "robert": "bob bobby rob robbie bert",
        "william": "bill billy will willie liam",
        "richard": "rick ricky dick rich richie",
        "james": "jim jimmy jamie",
        "john": "jack johnny jon",
        "joseph": "joe joey",
        "thomas": "tom tommy",
        "charles": "charlie chuck chas",
        "michael": "mike mikey mick",
        "christopher": "chris kit",
        "daniel": "dan danny",
        "matthew": "matt",
        "anthony": "tony",
        "edward": "ed eddie ted ned",
        "david": "dave davey",
        "steven": "steve stevie",
        "stephen": "steph",
        "andrew": "andy drew",
        "kenneth": "ken kenny",
        "joshua": "josh",
        "benjamin": "ben benny",
        "samuel": "sam sammy",
        "alexander": "alex al",
        "nicholas": "nick nicky",
        "jonathan": "jonny",
        "timothy": "tim timmy",
        "gregory": "greg",
        "patrick": "pat paddy",
        "peter": "pete",
        "raymond": "ray",
        "lawrence": "larry",
        "gerald": "gerry jerry",
        "donald": "don donnie",
        "ronald": "ron ronnie",
        "douglas": "doug",
        "frederick": "fred freddie",
        "henry": "hank harry",
        "walter": "walt wally",
        "leonard": "len lenny leo",
        "vincent": "vince vinny",
        "elizabeth": "liz lizzie beth betty betsy eliza libby",
        "margaret": "maggie meg peggy marge",
        "katherine": "kate katie kathy kat",
        "catherine": "cathy cat",
        "jennifer": "jen jenny",
        "jessica": "jess jessie",
        "patricia": "patty pattie tricia trish",
        "susan": "sue susie",
        "deborah": "deb debbie",
        "rebecca": "becky becca",
        "victoria": "vicky tori",
        "christine": "chrissy",
        "kimberly": "kim",
        "pamela": "pam",
        "barbara": "barb babs",
        "dorothy": "dot dottie",
        "abigail": "abby",
        "samantha": "sammie",
        "alexandra": "sandra lexi",
        "cynthia": "cindy",
        "judith": "judy",
        "theresa": "terry tess",
        "stephanie": "stephie",
        "amanda": "mandy",
        "melissa": "missy mel",
        "nancy": "nan",
        "virginia": "ginny",
        "eleanor": "ellie nell",
        "caroline": "carrie",
        "jacqueline": "jackie",
    }.items()
    for nick in nicks.split()
}


# Frequent given names in English-speaking registers (beside the formal names and nicknames
# above), to catch first and last name entered in each other's columns: "Wilson" / "Mary"
_GIVEN_NAMES = frozenset(_words("""mary linda sarah karen lisa ashley emily donna michelle carol
    laura sharon kathleen amy angela helen anna brenda emma nicole samantha ruth rachel janet
    catherine carolyn heather diane olivia julie joyce evelyn joan christina kelly martha
    lauren andrea cheryl megan alice jean doris ann gloria teresa sara madison hannah janice
    julia grace judy rose denise marilyn beverly isabella sophia charlotte amber danielle
    brittany diana natalie kayla alexis lori tiffany kristen maria ana sofia lucia carmen
    kevin brian george jason jeffrey ryan jacob gary eric justin scott brandon frank jose
    carlos luis juan miguel jorge pedro diego rafael ivan mohammed ahmed ali omar arthur
    jerry dennis tyler aaron adam nathan zachary harold kyle carl jeremy keith roger noah
    ethan christian terry sean austin jesse dylan bryan joe billy bruce gabriel logan albert
    willie alan eugene russell wayne roy ralph bobby randy philip howard louis johnny
    martin craig stanley shawn travis bradley jimmy mark paul""")) | frozenset(
    _NICKNAMES) | frozenset(_NICKNAMES.values())


@lru_cache(maxsize=1)
def _surname_pinyin() -> frozenset[str]:
    """Chinese surnames as tone-less pinyin (wang, ouyang, zhuge …), from the Chinese family's
    surname tables."""
    out = set(_SURNAME_PINYIN.values())
    for s in (*_common_surnames(), *_COMPOUND_SURNAMES):
        out.add(_SURNAME_PINYIN.get(s) or "".join(_char_pinyin(c) for c in s).replace("v", "u"))
    return frozenset(out)


def _fold(s: str) -> str:
    """Lower-case ASCII: accents dropped (José → jose), ß → ss; ü → u (not pinyin's v)."""
    s = s.casefold().translate(_FOLD)
    if not s.isascii():
        s = _RX_COMBINING.sub("", unicodedata.normalize("NFKD", s))
    return s


def _tokens(s: str) -> list[str]:
    """Words with a letter in them: a phone number or a bare number beside a name is no part
    of it ("John Smith 13800138000")."""
    return [w for w in _RX_WORD.findall(_RX_JOINERS.sub("", _fold(s))) if not w.isdigit()]


def _pinyin_syllables(words: list[str]) -> list[str] | None:
    """The syllables of a name written in pinyin, or None when it is not one: two or three
    words, each made of pinyin syllables, 2–4 syllables in all, and a Chinese surname at one
    end. "Takahashi" (one word) and "Jean Lee" (lee is not pinyin) are not."""
    if not 2 <= len(words) <= 3 or not all(w.isalpha() for w in words):
        return None
    syl, _mx = _syllables()
    out: list[str] = []
    for w in words:
        parts = _segment(w)
        if not all(p in syl for p in parts):
            return None
        out += parts
    surnames = _surname_pinyin()
    if not 2 <= len(out) <= 4 or (words[0] not in surnames and words[-1] not in surnames):
        return None
    return out


def _swapped(given_words: list[str], sur_words: list[str]) -> bool:
    """First and last name in each other's columns: the surname column holds an initial, or
    a frequent given name while the given-name column holds a word that is not one
    ("Wilson" / "Mary"; not "Thomas" / "James", where either could be either)."""
    if len(sur_words) != 1 or len(given_words) != 1 or len(given_words[0]) < 2:
        return False
    # an initial in the surname column ("Roberts" / "P.") is a given name's too
    return len(sur_words[0]) == 1 or (sur_words[0] in _GIVEN_NAMES
                                      and given_words[0] not in _GIVEN_NAMES)


def _split_suffix(words: list[str]) -> tuple[list[str], str | None]:
    suffix = None
    while len(words) > 1 and (words[-1] in _SUFFIXES or words[-1] in _POSTNOMINALS):
        suffix = _SUFFIXES.get(words[-1], suffix)
        words = words[:-1]
    return words, suffix


def _drop_titles(words: list[str]) -> list[str]:
    while len(words) > 1 and words[0] in _TITLES:
        words = words[1:]
    return words


def _given(words: list[str]) -> str | None:
    """Given names joined; a middle initial after a full first name dropped."""
    if words and len(words[0]) > 1:
        words = [words[0], *(w for w in words[1:] if len(w) > 1)]
    return "".join(words) or None


def _surname_split(words: list[str]) -> tuple[list[str], list[str]]:
    """(given words, surname words) of a name written given-first: the last word and the
    particles before it (Ludwig van Beethoven → ludwig / van beethoven)."""
    i = len(words) - 1
    while i > 1 and words[i - 1] in _PARTICLES:
        i -= 1
    return words[:i], words[i:]


def _result(given_words: list[str], surname_words: list[str], suffix: str | None,
            syllables: list[str] | None, written: list[str] | None = None) -> LatinPersonName:
    given = _given(given_words)
    surname = "".join(surname_words) or None
    if given is None and surname is None:
        return _NONE
    root = _NICKNAMES.get(given or "", given)
    # as written, "Last, First" as "First Last": standardizing `std` again gives it back
    std = " ".join(written or [*given_words, *surname_words])
    if is_placeholder(std):  # what is left of ":X", "N.A." is a placeholder too
        return _NONE
    if syllables is not None:
        key = "".join(sorted(syllables))
    else:
        key = "".join(sorted(p for p in (given, surname) if p))
    initial = given[0] if given else None
    return LatinPersonName(std, surname, given, root, initial, suffix, key)


def _from_chinese(t: str) -> LatinPersonName:
    p = _person(t)
    if p.std is None:
        return _NONE
    if not _CJK.search(p.std):  # the Chinese part was a note in brackets: "A (一)"
        return person_name_latin(p.std)
    surname = (_SURNAME_PINYIN.get(p.surname) or "".join(_char_pinyin(c) for c in p.surname)
               if p.surname else None)
    given = "".join(_char_pinyin(c) for c in (p.given or "")) or None
    # a character pypinyin cannot read stays itself: keep only what is pinyin
    given = "".join(_RX_WORD.findall(given.replace("v", "u"))) or None if given else None
    surname = ("".join(_RX_WORD.findall(surname.replace("v", "u"))) or None
               if surname else None)
    initial = given[0] if given else None
    return LatinPersonName(p.std, surname, given, given, initial, None, p.pinyin)


@_cached(65536)
def person_name_latin(name: object, surname: object = None) -> LatinPersonName:
    """A person's name in Latin script: surname, given name, nickname root, initial,
    generational suffix and an order-insensitive key. With `surname` (names in two columns),
    `name` holds the given names."""
    t, s = _clean(name), _clean(surname)
    if t is None and s is None:
        return _NONE
    if (t and _CJK.search(t)) or (s and _CJK.search(s)):
        return _from_chinese((s or "") + (t or ""))
    if s is not None:
        given_words, suffix = _split_suffix(_drop_titles(_tokens(t or "")))
        if all(w in _SUFFIXES or w in _TITLES for w in given_words):  # "Mr" / "Smith"
            given_words = []
        sur_words, sur_suffix = _split_suffix(_tokens(s))
        if t is not None and all(w in _SUFFIXES or w in _TITLES for w in sur_words):
            # nothing but "Jr" (or nothing) in the surname column: the first column is
            # the whole name ("John Smith" / "Jr")
            p = person_name_latin(t)
            if p.std is None or not sur_words:
                return p
            return p._replace(suffix=p.suffix or _SUFFIXES.get(sur_words[0]))
        suffix = suffix or sur_suffix
        if _swapped(given_words, sur_words):
            given_words, sur_words = sur_words, given_words
        syl = _pinyin_syllables([*sur_words, *given_words]) if len(sur_words) == 1 else None
        return _result(given_words, sur_words, suffix, syl)
    assert t is not None
    if "," in t:
        before, after = t.split(",", 1)
        after_words, suffix = _split_suffix(_drop_titles(_tokens(after)))
        sur_words, sur_suffix = _split_suffix(_drop_titles(_tokens(before)))
        if sur_words and after_words and not (
                len(after_words) == 1 and after_words[0] in _SUFFIXES):
            # "Smith, John (Jr.)": the surname first
            syl = (_pinyin_syllables([*sur_words, *after_words])
                   if len(sur_words) == 1 else None)
            return _result(after_words, sur_words, suffix or sur_suffix, syl)
        t = before + " " + " ".join(after_words)  # "John Smith, Jr.": the suffix after it
    words, suffix = _split_suffix(_drop_titles(_tokens(t)))
    if not words:
        return _NONE
    syl = _pinyin_syllables(words)
    if syl is not None:
        # pinyin: the surname is the end that is a Chinese surname (the first when both are)
        if words[0] in _surname_pinyin():
            return _result(words[1:], words[:1], suffix, syl, written=words)
        return _result(words[:-1], words[-1:], suffix, syl)
    given_words, sur_words = _surname_split(words)
    return _result(given_words, sur_words, suffix, None)
