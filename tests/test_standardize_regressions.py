"""Inputs that once made a standardizer raise (found at 1M demo records and by er check)."""

import pytest

from resolution.standardize import customer_name


@pytest.mark.parametrize(
    "name",
    ["西安可的便利店集團有限公司（西安新城）分公司", "某某有限公司（）分公司", "（西安新城）"],
)
def test_bracketed_region_tail_does_not_raise(name):
    result = customer_name(name, "企业")
    assert result is not None
