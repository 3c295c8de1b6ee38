"""The shop that the reports read: the "shop" step of `manage.py seed_demo`.

Orders come from one seeded random stream, in a fixed order: order k, its customer and its lines
are the same for a given seed whatever --size is, so a larger --size extends the data of a smaller
one, and a second run with the same size finds every line already there and adds nothing. Every row
gets its id from the stream, which is what makes "already there" a cheap comparison of ids.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connection

from reports.models import Customer, Order, OrderLine, Product, Region

FIRST_DAY = dt.date(2024, 1, 1)
DAYS = 731  # 2024 (a leap year) and 2025

# (code, name, share of customers)
REGIONS = [
    ("IDF", "Île-de-France", 16),
    ("BY", "Bayern", 14),
    ("CAT", "Catalunya", 11),
    ("LOM", "Lombardia", 10),
    ("NH", "Noord-Holland", 8),
    ("MAZ", "Mazowieckie", 7),
    ("SKA", "Skåne", 5),
    ("LDN", "Greater London", 18),
    ("DUB", "Dublin", 6),
    ("ATT", "Attikí", 5),
]

# (sku, name, category, price, popularity). Some names carry commas, quotes and accents on purpose:
# the CSV export must quote and encode them correctly.
CATALOGUE = [
    ("MUG-001", 'Mug "Classic", 350 ml', "Kitchen", "12.50", 30),
    ("MUG-002", "Espresso cups, set of 4", "Kitchen", "24.00", 12),
    ("KIT-010", "Chef's knife 20 cm", "Kitchen", "89.00", 6),
    ("KIT-011", "Crème brûlée ramekins, 6 pieces", "Kitchen", "29.90", 5),
    ("KIT-012", "Cast-iron skillet", "Kitchen", "54.00", 7),
    ("KIT-013", "Pour-over coffee dripper", "Kitchen", "19.90", 14),
    ("TEA-020", "Sencha green tea, 100 g", "Pantry", "9.80", 22),
    ("TEA-021", "Rooibos «Vanille», 100 g", "Pantry", "8.40", 15),
    ("COF-030", "Café de Colombia, beans 1 kg", "Pantry", "26.50", 24),
    ("COF-031", "Decaf, ground 250 g", "Pantry", "7.90", 9),
    ("CHO-032", "Dark chocolate 85 %, 100 g", "Pantry", "3.20", 35),
    ("HON-033", "Acacia honey, 500 g", "Pantry", "11.00", 10),
    ("BOK-040", "Two Scoops of Django", "Books", "39.00", 8),
    ("BOK-041", "Fluent Python, 2nd edition", "Books", "54.90", 9),
    ("BOK-042", "Le Petit Prince", "Books", "7.50", 11),
    ("BOK-043", "Designing Data-Intensive Applications", "Books", "49.00", 10),
    ("NTB-050", "Notebook A5, dotted", "Stationery", "14.00", 28),
    ("NTB-051", "Notebook A4, squared", "Stationery", "16.50", 13),
    ("PEN-052", "Fountain pen, fine nib", "Stationery", "32.00", 8),
    ("PEN-053", "Gel pens, 10 colours", "Stationery", "9.90", 20),
    ("INK-054", "Ink bottle 50 ml, blue-black", "Stationery", "11.50", 7),
    ("TSH-060", "T-shirt «asyncio», M", "Clothing", "22.00", 16),
    ("TSH-061", "T-shirt «asyncio», L", "Clothing", "22.00", 14),
    ("HOD-062", "Hoodie, navy, size L", "Clothing", "49.00", 8),
    ("SOC-063", "Socks, 3 pairs", "Clothing", "15.00", 18),
    ("CAP-064", "Cap, one size", "Clothing", "19.00", 9),
    ("BAG-070", "Tote bag, organic cotton", "Accessories", "12.00", 21),
    ("BAG-071", "Backpack 20 l", "Accessories", "79.00", 5),
    ("UMB-072", "Umbrella, compact", "Accessories", "24.50", 8),
    ("KEY-073", "Key ring, brass", "Accessories", "6.00", 12),
    ("DSK-080", "Desk lamp, LED", "Office", "45.00", 6),
    ("DSK-081", "Monitor stand, oak", "Office", "69.00", 4),
    ("DSK-082", "Cable organiser", "Office", "8.90", 15),
    ("DSK-083", "Mouse pad, XXL", "Office", "18.00", 11),
    ("PLT-090", "Monstera, 40 cm pot", "Plants", "34.00", 6),
    ("PLT-091", "Succulents, set of 3", "Plants", "21.00", 10),
    ("PLT-092", "Watering can 1 l", "Plants", "16.00", 5),
    ("GFT-099", "Gift card 50 €", "Gifts", "50.00", 7),
]

FIRST_NAMES = [
    "Amélie", "Björn", "Chloé", "Dário", "Élodie", "Francesca", "Gustav", "Hélène", "Iñaki", "Jana",
    "Kateřina", "Lars", "Małgorzata", "Niamh", "Olga", "Paweł", "Quentin", "Renée", "Søren", "Tomás",
    "Ulrike", "Vasiliki", "Wojciech", "Ximena", "Yiannis", "Zoë", "Aoife", "Jürgen", "Maëlle", "Nuño",
]  # fmt: skip
LAST_NAMES = [
    "Müller", "O'Brien", "García", "Nowak", "Østergaard", "Dupont", "Rossi", "van der Berg", "Kowalski",
    "Papadopoulos", "Fernández", "Schäfer", "Lindqvist", "Moreau", "De Luca", "Ní Bhriain", "Dvořák",
    "Jansen", "Smith", "Żeleński",
]  # fmt: skip

NEW_CUSTOMER_SHARE = 0.35
LINES_PER_ORDER = ([1, 2, 3, 4, 5], [40, 25, 18, 10, 7])
QUANTITY = ([1, 2, 3, 4, 6, 10], [60, 20, 9, 5, 4, 2])
DISCOUNT_SHARE = 0.1
DISCOUNT = Decimal("0.85")
CENT = Decimal("0.01")
# Rows per bulk INSERT round: large enough to amortise each statement, small enough to keep
# memory flat at a million lines.
INSERT_BATCH_LINES = 20_000

# Relative sales by month, and by hour of the day.
SEASON = dict(enumerate([0.8, 0.85, 0.95, 1.0, 1.0, 0.9, 0.85, 0.85, 1.0, 1.1, 1.35, 1.7], start=1))
HOURS = [1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 9, 10, 9, 8, 8, 9, 10, 12, 14, 15, 12, 7, 3]


@dataclass
class ShopStream:
    """The seeded random stream of customers, orders and lines."""

    rng: random.Random
    region_ids: list[int]
    products: list[tuple[int, Decimal]]
    product_weights: list[int]
    customer_regions: list[int] = field(default_factory=list)
    day_weights: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        days = [FIRST_DAY + dt.timedelta(days=offset) for offset in range(DAYS)]
        # Growth over the two years, a December peak and busier weekends: a chart worth looking at.
        self.day_weights = list(
            itertools.accumulate(
                (1 + 0.4 * offset / DAYS) * SEASON[day.month] * (1.15 if day.weekday() >= 5 else 1)
                for offset, day in enumerate(days)
            )
        )
        self.hour_weights = list(itertools.accumulate(HOURS))

    def orders(self) -> Iterator[tuple[Customer | None, Order, list[OrderLine]]]:
        rng = self.rng
        line_id = 0
        for order_id in itertools.count(1):
            new_customer = None
            if not self.customer_regions or rng.random() < NEW_CUSTOMER_SHARE:
                region_id = rng.choice(self.region_ids)
                self.customer_regions.append(region_id)
                customer_id = len(self.customer_regions)
                new_customer = Customer(
                    id=customer_id,
                    name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    email=f"customer-{customer_id:07d}@example.com",
                    region_id=region_id,
                )
            else:
                customer_id = rng.randint(1, len(self.customer_regions))
            order = Order(
                id=order_id,
                number=f"SO-{order_id:07d}",
                customer_id=customer_id,
                region_id=self.customer_regions[customer_id - 1],
                placed_at=self._moment(),
            )
            lines = []
            count = rng.choices(*LINES_PER_ORDER)[0]
            for product_id, price in self._distinct_products(count):
                line_id += 1
                if rng.random() < DISCOUNT_SHARE:
                    price = (price * DISCOUNT).quantize(CENT)
                lines.append(
                    OrderLine(
                        id=line_id,
                        order_id=order_id,
                        product_id=product_id,
                        quantity=rng.choices(*QUANTITY)[0],
                        unit_price=price,
                    )
                )
            yield new_customer, order, lines

    def _moment(self) -> dt.datetime:
        day = self.rng.choices(range(DAYS), cum_weights=self.day_weights)[0]
        hour = self.rng.choices(range(24), cum_weights=self.hour_weights)[0]
        return dt.datetime.combine(
            FIRST_DAY + dt.timedelta(days=day),
            dt.time(hour, self.rng.randrange(60), self.rng.randrange(60)),
            tzinfo=dt.UTC,
        )

    def _distinct_products(self, count: int) -> list[tuple[int, Decimal]]:
        chosen: dict[int, Decimal] = {}
        while len(chosen) < count:
            product_id, price = self.rng.choices(self.products, weights=self.product_weights)[0]
            chosen[product_id] = price
        return list(chosen.items())


def seed_shop(rng: random.Random, size: int) -> str:
    """Create the regions, the catalogue and `size` order lines (with their orders and customers)."""
    Region.objects.bulk_create(
        [Region(code=code, name=name) for code, name, _ in REGIONS], ignore_conflicts=True
    )
    Product.objects.bulk_create(
        [
            Product(sku=sku, name=name, category=category, price=Decimal(price))
            for sku, name, category, price, _ in CATALOGUE
        ],
        ignore_conflicts=True,
    )
    region_ids = dict(Region.objects.values_list("code", "id"))
    products = {
        product.sku: product for product in Product.objects.filter(sku__in=[sku for sku, *_ in CATALOGUE])
    }
    stream = ShopStream(
        rng,
        # Weighted by share: repeating an id makes rng.choice pick it that much more often.
        region_ids=[region_ids[code] for code, _, share in REGIONS for _ in range(share)],
        products=[(products[sku].pk, products[sku].price) for sku, *_ in CATALOGUE],
        product_weights=[row[4] for row in CATALOGUE],
    )
    existing_lines = OrderLine.objects.order_by("-id").values_list("id", flat=True).first() or 0
    if existing_lines >= size:
        return f"{existing_lines} order lines already there (asked for {size}); nothing to add"
    existing_orders = Order.objects.order_by("-id").values_list("id", flat=True).first() or 0
    existing_customers = Customer.objects.order_by("-id").values_list("id", flat=True).first() or 0

    customers: list[Customer] = []
    orders: list[Order] = []
    lines: list[OrderLine] = []
    added_lines = 0
    for customer, order, order_lines in stream.orders():
        last_line_id = order_lines[-1].id
        order_lines = [line for line in order_lines if existing_lines < line.id <= size]
        if customer and customer.id > existing_customers:
            customers.append(customer)
        if order.id > existing_orders:
            orders.append(order)
        lines.extend(order_lines)
        added_lines += len(order_lines)
        if len(lines) >= INSERT_BATCH_LINES:
            _insert(customers, orders, lines)
        if last_line_id >= size:
            break
    _insert(customers, orders, lines)
    _reset_id_sequences()
    return (
        f"{added_lines} new order lines ({size} in all), "
        f"{Order.objects.count()} orders, {Customer.objects.count()} customers, "
        f"{len(CATALOGUE)} products, {len(REGIONS)} regions"
    )


def _insert(customers: list[Customer], orders: list[Order], lines: list[OrderLine]) -> None:
    # Parents first: each order needs its customer, each line its order.
    Customer.objects.bulk_create(customers, batch_size=5000)
    Order.objects.bulk_create(orders, batch_size=5000)
    OrderLine.objects.bulk_create(lines, batch_size=5000)
    customers.clear()
    orders.clear()
    lines.clear()


def _reset_id_sequences() -> None:
    """The stream chose every id itself; on PostgreSQL the id sequences must be moved past them,
    or the next row added by hand (in the admin, say) would collide."""
    statements = connection.ops.sequence_reset_sql(no_style(), [Customer, Order, OrderLine])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
