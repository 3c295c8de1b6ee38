"""A small shop to report on (regions, customers, products, orders and their lines) and the
publications that staff broadcast to everyone watching /ws/notifications/."""

from urllib.parse import urlencode

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from reports.filters import DateRange


class Region(models.Model):
    code = models.CharField(max_length=8, unique=True)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    name = models.CharField(max_length=120)
    email = models.EmailField(unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="customers")

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=60)
    price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["sku"]

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    number = models.CharField(max_length=20, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    # Where the order was shipped, kept on the order: customers move, past revenue stays put.
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="orders")
    placed_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveIntegerField()
    # The price paid, which may differ from today's catalogue price.
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.order.number}: {self.quantity} x {self.product.sku}"


class Publication(models.Model):
    """A report that staff announced: stored first, then broadcast, so a client that was offline
    during the broadcast finds it on reconnect (?after=<id>)."""

    report_slug = models.SlugField(max_length=50)
    title = models.CharField(max_length=200)
    start = models.DateField(null=True, blank=True)
    end = models.DateField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="publications"
    )
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def get_absolute_url(self) -> str:
        url = reverse("reports:detail", args=[self.report_slug])
        query = urlencode(DateRange(self.start, self.end).as_query())
        return f"{url}?{query}" if query else url
