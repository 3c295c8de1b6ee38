"""In each child: Django's test runner and result, which record every test's outcome into the JSON
file the parent reads, and which make the substitution first in the substituted run."""

import json
import os
import traceback
import unittest
from pathlib import Path
from types import TracebackType
from typing import Any

from django.test.runner import DiscoverRunner

from deploy.django_upstream.run import OUTCOMES_VARIABLE, VARIANT_VARIABLE
from deploy.django_upstream.substitute import replacements, substitute

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class OutcomeRecordingResult(unittest.TextTestResult):
    """Django's text result, which also keeps each test's outcome by id, and a line of detail for
    each one that did not pass. (The camelCase names are unittest's.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcomes: dict[str, str] = {}
        self.details: dict[str, str] = {}

    def startTest(self, test: unittest.TestCase) -> None:
        super().startTest(test)
        self.outcomes[test.id()] = "no outcome"

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self.outcomes[test.id()] = "passed"

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addFailure(test, err)
        self.record(test.id(), "failed", err)

    def addError(self, test: unittest.TestCase, err: Any) -> None:
        # `test` may stand for a class or module whose set-up failed ("setUpClass (module.Class)").
        super().addError(test, err)
        self.record(test.id(), "error", err)

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        self.outcomes[test.id()] = f"skipped: {reason}"

    def addExpectedFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addExpectedFailure(test, err)
        self.outcomes[test.id()] = "expected failure"

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        super().addUnexpectedSuccess(test)
        self.outcomes[test.id()] = "unexpected success"

    def addSubTest(self, test: unittest.TestCase, subtest: unittest.TestCase, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        # A failed subtest fails its test (unittest then reports no success for it).
        if err is not None:
            outcome = "failed" if issubclass(err[0], test.failureException) else "error"
            self.record(test.id(), outcome, err, subtest.id())

    def record(self, test_id: str, outcome: str, err: ExcInfo, where: str = "") -> None:
        self.outcomes[test_id] = outcome
        last_line = traceback.format_exception_only(err[0], err[1])[-1].strip()
        self.details[test_id] = f"{where}: {last_line}" if where else last_line


class OutcomeRecordingRunner(DiscoverRunner):
    """Django's runner, which substitutes the project's classes (in the substituted run) before it
    imports any test module, and writes every test's outcome to a JSON file."""

    def get_resultclass(self) -> type[unittest.TextTestResult]:
        # Django's other result classes serve --debug-sql and --pdb, which these runs never pass.
        return OutcomeRecordingResult

    def build_suite(self, *args: Any, **kwargs: Any) -> unittest.TestSuite:
        if os.environ[VARIANT_VARIABLE] == "substituted":
            for change in substitute(replacements()):
                print(f"  substituted: {change}")
        return super().build_suite(*args, **kwargs)

    def run_suite(self, suite: unittest.TestSuite, **kwargs: Any) -> unittest.TextTestResult:
        result = super().run_suite(suite, **kwargs)
        assert isinstance(result, OutcomeRecordingResult)
        Path(os.environ[OUTCOMES_VARIABLE]).write_text(
            json.dumps({"outcomes": result.outcomes, "details": result.details}, indent=1, sort_keys=True)
        )
        return result
