from django.contrib import admin
from django.http import HttpRequest

from reports.models import Customer, Order, OrderLine, Product, Publication, Region


@admin.register(Publication)
class PublicationAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "report_slug", "published_by", "published_at"]
    list_filter = ["report_slug"]
    # Saved here, a publication would skip the broadcast that the publish view sends after commit.
    readonly_fields = ["report_slug", "title", "start", "end", "published_by", "published_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "price"]
    list_filter = ["category"]
    search_fields = ["sku", "name"]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "region"]
    list_filter = ["region"]
    search_fields = ["name", "email"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    raw_id_fields = ["product"]
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "region", "placed_at"]
    list_filter = ["region"]
    date_hierarchy = "placed_at"
    search_fields = ["number"]
    # A select box would load every customer: 160,000 of them in a 1,000,000-line shop.
    raw_id_fields = ["customer"]
    inlines = [OrderLineInline]
