"""Finding skills: full-text search with filters, sorting and pages, on either database.

SQLite answers text queries from an FTS5 table kept in step by ``index_skill``; PostgreSQL
from a generated ``tsvector`` column with a GIN index (see the migration). Both index the
name and id, the tags and the description without stemming, and every query word is a
prefix (``reac`` finds ``react``), so search-as-you-type behaves the same on both.
"""

from __future__ import annotations

import re
from typing import Literal

from sqlalchemy import Select, delete, func, literal_column, select, text
from sqlalchemy.orm import Session

from skills.marketplace.models import Skill, SkillTag

Sort = Literal["relevance", "rating", "installs", "newest", "name"]
SORTS: tuple[Sort, ...] = ("relevance", "rating", "installs", "newest", "name")
ANY_STATUS = "any"
_WORD = re.compile(r"[0-9a-z]+")
_MAX_WORDS = 8


def query_words(q: str) -> list[str]:
    """The searchable words of a query, lowercased; punctuation and operators dropped.

    >>> query_words('React "setup" OR -x*')
    ['react', 'setup', 'or', 'x']
    """
    return _WORD.findall(q.lower())[:_MAX_WORDS]


def index_skill(session: Session, skill: Skill) -> None:
    """Keep a skill's tags and SQLite's FTS5 row in step (PostgreSQL's text column is generated)."""
    session.execute(delete(SkillTag).where(SkillTag.skill_id == skill.id))
    session.add_all(SkillTag(skill_id=skill.id, tag=tag) for tag in dict.fromkeys(skill.tags or []))
    if session.get_bind().dialect.name != "sqlite":
        return
    session.execute(text("DELETE FROM skill_search WHERE skill_id = :id"), {"id": skill.id})
    session.execute(
        text("INSERT INTO skill_search (skill_id, name, tags, description) VALUES (:id, :name, :tags, :description)"),
        {"id": skill.id, "name": f"{skill.name} {skill.id.replace('-', ' ')}", "tags": " ".join(skill.tags or []),
         "description": skill.description},
    )


def search_skills(
    session: Session, q: str = "", category: str | None = None, tag: str | None = None, status: str | None = "active",
    sort: Sort = "relevance", page: int = 1, page_size: int = 20,
) -> tuple[list[Skill], int]:
    """One page of matching skills and how many match in all.

    The page is chosen on ids alone (narrow rows, read in index order where a sort has one),
    then only its skills are loaded.
    """
    words = query_words(q)
    query = select(Skill.id)
    rank = None
    if words:
        query, rank = _text_match(session, query, words)
    if category:
        query = query.where(Skill.category == category)
    if status and status != ANY_STATUS:
        query = query.where(Skill.status == status)
    if tag:
        query = query.where(Skill.id.in_(select(SkillTag.skill_id).where(SkillTag.tag == tag)))
    total = session.scalar(query.with_only_columns(func.count(), maintain_column_froms=True)) or 0
    ids = list(session.scalars(query.order_by(*_ordering(sort, rank)).offset((page - 1) * page_size).limit(page_size)))
    loaded = {skill.id: skill for skill in session.scalars(select(Skill).where(Skill.id.in_(ids)))} if ids else {}
    return [loaded[skill_id] for skill_id in ids], total


def _text_match(session: Session, query: Select, words: list[str]) -> tuple[Select, object]:
    if session.get_bind().dialect.name == "sqlite":
        match = " ".join(f'"{word}"*' for word in words)
        hits = text("SELECT skill_id, bm25(skill_search, 10.0, 5.0, 1.0) AS rank FROM skill_search WHERE skill_search MATCH :match")
        matched = hits.bindparams(match=match).columns(skill_id=Skill.id.type, rank=Skill.rating_average.type).subquery("hits")
        return query.join(matched, matched.c.skill_id == Skill.id), matched.c.rank  # bm25: lower is better
    tsquery = func.to_tsquery("simple", " & ".join(f"{word}:*" for word in words))
    vector = literal_column("skills.search_vector")
    return query.where(vector.op("@@")(tsquery)), -func.ts_rank(vector, tsquery)


def _ordering(sort: Sort, rank: object) -> list:
    # Tiebreaks run the same way as the sort, so each ordering matches one index read backwards or forwards.
    if sort == "relevance" and rank is not None:
        return [rank, Skill.id]
    if sort == "rating":
        return [Skill.rating_average.desc(), Skill.rating_count.desc(), Skill.id.desc()]
    if sort == "installs":
        return [Skill.installs.desc(), Skill.id.desc()]
    if sort == "name":
        return [Skill.name, Skill.id]
    return [Skill.updated_at.desc(), Skill.id.desc()]  # newest, and relevance without a query


def categories(session: Session, status: str | None = "active") -> list[tuple[str, int]]:
    query = select(Skill.category, func.count()).group_by(Skill.category).order_by(Skill.category)
    if status and status != ANY_STATUS:
        query = query.where(Skill.status == status)
    return [(name, count) for name, count in session.execute(query)]
