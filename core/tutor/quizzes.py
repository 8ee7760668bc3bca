"""/quiz: questions on a topic written by the model, each answer graded by it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.rollup import record
from core.chat.context import Services
from core.errors import BadInput
from core.identity.models import User
from core.tutor import prompts
from core.tutor.llm import LLMError
from core.tutor.models import TutorQuiz
from core.tutor.service import ask_json, check_limits, require_llm

DIFFICULTIES = ("easy", "medium", "hard")


def parse_quiz_args(args: str) -> tuple[str, str]:
    words = args.split()
    difficulty = "medium"
    if words and words[-1].lower() in DIFFICULTIES:
        difficulty = words.pop().lower()
    topic = " ".join(words).strip()
    if not topic:
        raise BadInput("Tell me the topic: /quiz <topic> [easy|medium|hard], e.g. /quiz cells")
    if len(topic) > 300:
        raise BadInput("That topic is too long; keep it under 300 characters.")
    return topic, difficulty


async def active_quiz(session: AsyncSession, user: User, key: str) -> TutorQuiz | None:
    found: TutorQuiz | None = await session.scalar(
        select(TutorQuiz)
        .where(
            TutorQuiz.user_id == user.id,
            TutorQuiz.chat_key == key,
            TutorQuiz.finished_at.is_(None),
        )
        .order_by(TutorQuiz.id.desc())
        .limit(1)
    )
    return found


async def start_quiz(
    session: AsyncSession, services: Services, user: User, key: str, args: str
) -> TutorQuiz:
    topic, difficulty = parse_quiz_args(args)
    llm = require_llm(services, "/quiz")
    now = services.clock.now()
    await check_limits(session, services, user, now)
    n = services.settings.tutor_quiz_questions
    data = await ask_json(
        session, services, user, llm, prompts.QUIZ.format(n=n, difficulty=difficulty, topic=topic)
    )
    questions = [
        {"question": str(q["question"]), "answer": str(q.get("answer", ""))}
        for q in data.get("questions", [])
        if isinstance(q, dict) and q.get("question")
    ][:n]
    if not questions:
        raise LLMError("The AI model did not write any questions. Please try again.")
    await session.execute(
        update(TutorQuiz)
        .where(TutorQuiz.user_id == user.id, TutorQuiz.chat_key == key)
        .where(TutorQuiz.finished_at.is_(None))
        .values(finished_at=now)
    )
    quiz = TutorQuiz(
        user_id=user.id,
        chat_key=key,
        topic=topic,
        difficulty=difficulty,
        questions=questions,
        results=[],
    )
    session.add(quiz)
    await session.flush()
    await record(session, user.id, None, tutor_work=1)  # stamped by the database's now()
    return quiz


@dataclass(frozen=True)
class Graded:
    correct: bool
    feedback: str
    expected: str


async def grade_answer(
    session: AsyncSession, services: Services, user: User, quiz: TutorQuiz, answer: str
) -> Graded:
    """Grade the answer to the current question and move on (finishing after the last)."""
    llm = require_llm(services, "Grading a quiz")
    now = services.clock.now()
    await check_limits(session, services, user, now)
    question = quiz.questions[len(quiz.results)]
    prompt = prompts.GRADE.format(
        question=question["question"], answer=question["answer"], student=prompts.inert(answer)
    )
    data = await ask_json(session, services, user, llm, prompt)
    graded = Graded(bool(data.get("correct")), str(data.get("feedback", "")), question["answer"])
    quiz.results = [
        *quiz.results,
        {"answer": answer, "correct": graded.correct, "feedback": graded.feedback},
    ]
    if len(quiz.results) >= len(quiz.questions):
        quiz.finished_at = now
    return graded


def quiz_score(quiz: TutorQuiz) -> int:
    return sum(1 for r in quiz.results if r.get("correct"))
