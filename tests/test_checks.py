"""Reference-free checks: hand-made rows that must trip each check and rows that must not."""

import threading
from concurrent.futures import ThreadPoolExecutor

import polars as pl
import pytest
from conftest import CORPUS

from tarjama.errors import TarjamaError
from tarjama.quality.checks import (
    CHECKS,
    Check,
    CheckResult,
    check_columns,
    create_check,
    create_checks,
    failure_counts,
    passes_checks,
    run_checks,
)
from tarjama.text.language import _load_language_identifier, language_identifier


def failed(name, pairs, **settings):
    check = create_check(name, **settings)
    return [not check.accept(r) for r in check.check(pairs)]


def test_numbers_changed_or_missing_trip_and_rewritten_numbers_do_not():
    trips = [
        ("بأزيد من 5000 متطوع", "with more than 50,000 volunteers"),  # the seed run's error
        ("في 3 و 4 أكتوبر", "on 3 October"),  # a date's day dropped
        ("بلغ عدد الضحايا ٢٥ شخصا", "the death toll reached 52"),  # Arabic-Indic digits, changed
        ("نمو بنسبة 2.5 في المائة", "growth of 25 percent"),
        ("قتل شخص واحد", "12 people were killed"),  # a number the Arabic does not have
    ]
    passes = [
        ("بأزيد من 5000 متطوع", "more than 5,000 volunteers"),
        ("بلغ عدد الضحايا ٢٥ شخصا", "the death toll reached 25"),
        ("في 3 و 4 أكتوبر", "on October 3 and 4"),
        ("وصلت الخسائر إلى 5 ملايين دولار", "losses reached $5 million"),
        ("وصلت الخسائر إلى 5 ملايين دولار", "losses reached $5,000,000"),
        ("نمو بنسبة 2,5 في المائة", "growth of 2.5 percent"),  # a decimal comma
        ("زار 3 مدن", "he visited three cities"),  # written out in English
        ("زار خمسة آلاف شخص المعرض", "5,000 people visited the fair"),  # written out in Arabic
        ("في 2018/10/3", "on 3 October 2018"),  # a month number written as a name
        ("في القرن التاسع عشر", "in the 19th century"),  # ordinals are words in Arabic
        ("في ثمانينيات القرن العشرين", "in the 1980s"),
        ("لا أرقام هنا", "no numbers here"),
    ]
    assert failed("numbers", trips) == [True] * len(trips)
    assert failed("numbers", passes) == [False] * len(passes)
    detail = create_check("numbers").check(trips[:1])[0].detail
    assert detail == "5000 missing, 50,000 not in the Arabic"


def test_numbers_flag_the_seed_article_error_with_its_real_sentence():
    arabic = next(
        line
        for line in (CORPUS / "morocco-us-counterterrorism.ar.txt").read_text(encoding="utf-8").splitlines()
        if "5000" in line
    )
    english = next(
        line
        for line in (CORPUS / "morocco-us-counterterrorism.en.txt").read_text(encoding="utf-8").splitlines()
        if "5,000" in line
    )
    assert failed("numbers", [(arabic, english), (arabic, english.replace("5,000", "50,000"))]) == [False, True]


def test_arabic_script_left_in_the_mt():
    pairs = [
        ("", 'The answer "بنعم" will be equivalent to confirmation.'),
        ("", "Efinنج News said"),
        ("", "The minister said, on Tuesday, that talks went well."),
        ("", "Prices rose 5% (٥٪)."),  # Arabic-Indic digits and percent sign are not letters
    ]
    assert failed("arabic-script", pairs) == [True, True, False, False]
    assert failed("arabic-script", pairs[:2], max_letters=3) == [True, False]


def test_language_other_than_english_trips_short_and_english_text_does_not():
    pairs = [
        ("", "Les deux pays ont convenu de renforcer leur coopération dans la lutte contre le terrorisme."),
        ("", "两国同意加强反恐合作，并将在明年举行新一轮会谈。"),
        ("", "El presidente dijo que el gobierno aumentará los impuestos el próximo año."),
        ("", "The two countries agreed to strengthen their cooperation in the fight against terrorism."),
        ("", "Volcano spews ash on Mexico City"),
        ("", "Ok."),  # too short to judge
    ]
    assert failed("language", pairs) == [True, True, True, False, False, False]
    result = create_check("language").check(pairs[:1])[0]
    assert result.detail.startswith("most likely fr, P(en) = 0.00")


def test_length_ratio_far_from_the_corpus_distribution():
    arabic = "وأكد وزير الخارجية أن البلدين اتفقا على تعزيز التعاون في مجال مكافحة الإرهاب"
    typical = "The foreign minister said both countries agreed to strengthen cooperation against terrorism"
    corpus = [(arabic, typical)] * 12 + [
        (arabic, "The minister said."),  # truncated
        (arabic, typical + " " + typical + " " + typical),  # padded
        (arabic, typical + " today"),
    ]
    assert failed("length-ratio", corpus) == [False] * 12 + [True, True, False]
    # a small corpus is judged against the NTREX prior instead of its own spread
    assert failed("length-ratio", corpus[-3:]) == [True, True, False]
    assert failed("length-ratio", corpus, max_z=100.0) == [False] * 15


def test_repetition_of_a_looping_model():
    pairs = [
        ("", "The talks the talks the talks the talks continued."),
        ("", "He said that the minister would resign, the minister would resign, the minister would resign."),
        ("", "If the president were to be arrested if the president were to be arrested, chaos would follow."),
        ("", "It was very very cold."),
        ("", "The minister met the minister of trade, and the minister of finance."),
    ]
    assert failed("repetition", pairs) == [True, True, True, False, False]
    detail = create_check("repetition").check(pairs[2:3])[0].detail
    assert detail == "«if the president were to be arrested» 2 times in a row"
    # a word twice is two-thirds of the way to failing (three times): seen, not failed
    assert create_check("repetition").check(pairs[3:4])[0] == CheckResult(2 / 3, "«very» 2 times in a row")


def test_latin_names_in_the_arabic_missing_from_the_mt():
    pairs = [
        ("التقى مسؤولو DGST بنظرائهم", "Officials met their counterparts"),
        ("نشر تغريدة على Twitter", "He posted a tweet on Twitter."),
        ("طائرات F-16 الأمريكية", "American F 16 jets"),
        ("حسب موقع www.example.com والحساب @someone", "According to the website"),
        ("ناشطو Momentum في الحزب", "Momentum's activists in the party"),
        ("زار Rabat و Tanger", "He visited Rabat and Tangier"),
    ]
    assert failed("latin-names", pairs) == [True, False, False, False, False, True]
    assert create_check("latin-names").check(pairs[-1:])[0].detail == "Tanger missing"


def test_latin_names_found_inside_punctuated_words_of_the_mt():
    # the MT writes the name joined to other text by a hyphen, slash, dot, bracket or "=": still present
    pairs = [
        ("قوات يقودها NATO", "NATO-led forces"),
        ("شراكة بين Apple و Google", "an Apple-Google partnership"),
        ("شبكة CNN", "CNN.com network"),
        ("طائرة F-16 أمريكية", "a US F-16/F-35 jet"),
        ("الصيغة =SUM(A1) في الخلية", "=SUM(A1) in the cell"),
        ("الولايات المتحدة U.S.", "the United States (US)"),
        ("مطعم McDonald's", "a McDonald's restaurant"),
    ]
    check = create_check("latin-names")
    assert [r.detail for r in check.check(pairs)] == [""] * len(pairs)
    assert failed("latin-names", pairs) == [False] * len(pairs)


def test_latin_names_absent_or_only_inside_a_longer_word_still_missing():
    pairs = [
        ("قالت US", "She focused on the issue"),  # US inside "focused"
        ("شراكة بين Apple و Google", "an Applebee's-Google partnership"),  # Apple only inside Applebee
        ("قوات يقودها NATO", "Allied-led forces"),
        ("طائرة F-16 أمريكية", "a US F-161/F-35 jet"),  # F-16 is not F-161
        ("الصيغة =SUM(A1)", "=SUMIF(A12) formula"),
    ]
    details = [r.detail for r in create_check("latin-names").check(pairs)]
    assert details == ["US missing", "Apple missing", "NATO missing", "F-16 missing", "SUM missing, A1 missing"]


def test_registry_settings_and_errors():
    assert list(CHECKS) == ["numbers", "arabic-script", "language", "length-ratio", "repetition", "latin-names"]
    checks = create_checks({"numbers": {}, "length-ratio": {"max_z": 4}})
    assert [c.name for c in checks] == ["numbers", "length-ratio"] and checks[1].settings()["max_z"] == 4
    with pytest.raises(TarjamaError, match="unknown check 'nonsense'"):
        create_check("nonsense")
    with pytest.raises(TarjamaError, match="'numbers' has no setting 'threshold'"):
        create_check("numbers", threshold=3)
    with pytest.raises(TarjamaError, match="max_z must be a float, not 'high'"):
        create_check("length-ratio", max_z="high")
    with pytest.raises(TarjamaError, match="cannot import"):
        create_check("no_such_module:Check")


class ShoutingCheck(Check):
    """A user's own check, found by module path: the MT is all capitals."""

    name = "shouting"

    def check(self, pairs):
        return [CheckResult(float(mt.isupper())) for _, mt in pairs]

    def accept(self, result):
        return result.value == 0


def test_checks_run_together_become_columns_counts_and_a_filter():
    pairs = [
        ("بأزيد من 5000 متطوع", "with more than 50,000 volunteers"),
        ("نشر تغريدة على Twitter", "HE POSTED ON TWITTER"),
        ("قال الوزير", "The minister said"),
    ]
    checks = [*create_checks(["numbers", "arabic-script"]), create_check("tests.test_checks:ShoutingCheck")]
    outcomes = run_checks(pairs, checks)
    assert [o.failed for o in outcomes] == [("numbers",), ("shouting",), ()]
    assert outcomes[0].notes == "numbers: 5000 missing, 50,000 not in the Arabic" and outcomes[1].notes == "shouting"
    assert failure_counts(outcomes, checks) == {"numbers": 1, "arabic-script": 0, "shouting": 1}
    frame = pl.DataFrame({"english_mt": [mt for _, mt in pairs], **check_columns(pairs, checks)})
    assert frame["checks_failed"].to_list() == ["numbers", "shouting", ""]
    assert frame.filter(passes_checks())["english_mt"].to_list() == ["The minister said"]
    assert frame.filter(passes_checks("numbers")).height == 2
    assert frame.filter(passes_checks("arabic-script")).height == 3


def test_threads_reaching_the_language_check_at_once_share_one_model():
    """A corpus run's threads start checking together: one model load (2 s, 100 MB), not one per thread."""
    _load_language_identifier.cache_clear()
    together = threading.Barrier(4)

    def first_use(_: int) -> object:
        together.wait()
        return language_identifier()

    with ThreadPoolExecutor(4) as pool:
        models = list(pool.map(first_use, range(4)))
    assert len({id(model) for model in models}) == 1
