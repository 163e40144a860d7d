from tests.quizzes.conftest import enrol, make_quiz  # noqa: F401 - the quiz fixtures
