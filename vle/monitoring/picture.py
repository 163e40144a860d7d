"""The network picture's layout (issue 19 point 2): partners as nodes grouped
by country, each country a small circle of its organisations, the countries
themselves around one large circle; the pairs as lines between them. Only
coordinates are computed here: the template draws the SVG (escaped)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from vle.accounts.models import Organisation
from vle.monitoring.cooperation import CooperationPair

WIDTH = 960
HEIGHT = 720
# Colour-blind-safe (Okabe–Ito), dark enough for 3:1 against white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8A6D00", "#56106B", "#A6341B", "#1B5E20")


@dataclass
class Node:
    org: Organisation
    x: float
    y: float
    colour: str


@dataclass
class Cluster:
    country: str
    x: float
    y: float
    radius: float
    colour: str
    nodes: list[Node]


@dataclass
class Edge:
    pair: CooperationPair
    a: Node
    b: Node


@dataclass
class Picture:
    width: int
    height: int
    clusters: list[Cluster]
    edges: list[Edge]


def layout(pairs: list[CooperationPair], organisations: list[Organisation]) -> Picture:
    """Every organisation in `organisations` and in the pairs, by country."""
    everyone = {o.id: o for o in organisations}
    for pair in pairs:
        everyone.setdefault(pair.org_a.id, pair.org_a)
        everyone.setdefault(pair.org_b.id, pair.org_b)
    by_country: dict[str, list[Organisation]] = {}
    for org in sorted(everyone.values(), key=lambda o: o.name.casefold()):
        by_country.setdefault(org.country, []).append(org)
    countries = sorted(by_country)
    big = 0 if len(countries) == 1 else min(WIDTH, HEIGHT) / 2 - 150
    clusters: list[Cluster] = []
    nodes: dict[int, Node] = {}
    for i, country in enumerate(countries):
        angle = 2 * math.pi * i / len(countries) - math.pi / 2
        cx, cy = WIDTH / 2 + big * math.cos(angle), HEIGHT / 2 + big * math.sin(angle)
        members = by_country[country]
        radius = 0.0 if len(members) == 1 else min(110.0, 22.0 * len(members))
        colour = PALETTE[i % len(PALETTE)]
        cluster = Cluster(country, cx, cy, radius + 40, colour, [])
        for j, org in enumerate(members):
            a = 2 * math.pi * j / len(members) - math.pi / 2
            node = Node(org, cx + radius * math.cos(a), cy + radius * math.sin(a), colour)
            cluster.nodes.append(node)
            nodes[org.id] = node
        clusters.append(cluster)
    edges = [Edge(p, nodes[p.org_a.id], nodes[p.org_b.id]) for p in pairs]
    return Picture(WIDTH, HEIGHT, clusters, edges)
