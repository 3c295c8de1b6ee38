"""deploy/django_upstream/record.py: each test's outcome is recorded, with a line of detail for each
one that did not pass."""

import io
import unittest

from deploy.django_upstream.record import OutcomeRecordingResult


class Examples(unittest.TestCase):
    """One test of each outcome, run by the test below, not by pytest."""

    __test__ = False

    def test_passes(self):
        pass

    def test_fails(self):
        self.fail("no")

    def test_errors(self):
        raise KeyError("missing")

    @unittest.skip("not here")
    def test_skipped(self):
        pass

    @unittest.expectedFailure
    def test_expected_to_fail(self):
        self.fail("known")

    def test_subtest_fails(self):
        for number in (1, 2):
            with self.subTest(number=number):
                assert number == 1


def test_the_result_records_every_outcome():
    result = OutcomeRecordingResult(io.StringIO(), descriptions=False, verbosity=0)

    unittest.defaultTestLoader.loadTestsFromTestCase(Examples).run(result)

    name = f"{__name__}.Examples"
    assert result.outcomes == {
        f"{name}.test_passes": "passed",
        f"{name}.test_fails": "failed",
        f"{name}.test_errors": "error",
        f"{name}.test_skipped": "skipped: not here",
        f"{name}.test_expected_to_fail": "expected failure",
        f"{name}.test_subtest_fails": "failed",
    }
    assert result.details[f"{name}.test_errors"] == "KeyError: 'missing'"
    assert result.details[f"{name}.test_subtest_fails"].startswith(f"{name}.test_subtest_fails (number=2)")
