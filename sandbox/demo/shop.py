"""A small stateful shop: each episode starts from the shipped catalogue and two earlier orders."""

import copy

from toolloom.sandbox import ToolError, tool

from ._data import load
from .money import add_vat


def _shop(state: dict) -> dict:
    if "orders" not in state:
        data = load("shop")
        state.update(
            cart=[],
            orders=copy.deepcopy(data["seed_orders"]),
            next_order=1003,
            stock={p["product_id"]: p["stock"] for p in data["products"]},
        )
    return state


def _product(product_id: str) -> dict:
    for p in load("shop")["products"]:
        if p["product_id"] == product_id:
            return p
    raise ToolError(404, f"no product with id '{product_id}'")


@tool("search_products")
def search_products(query: str, max_price_eur: float | None = None) -> dict:
    words = query.lower().split()
    hits = [
        p
        for p in load("shop")["products"]
        if all(w in f"{p['name']} {p['category']}".lower() for w in words)
        and (max_price_eur is None or p["price_eur"] <= max_price_eur)
    ]
    return {"results": [{"product_id": p["product_id"], "name": p["name"], "price_eur": p["price_eur"]} for p in hits]}


@tool("get_product", stateful=True)
def get_product(product_id: str, state: dict) -> dict:
    p = _product(product_id)
    return {**p, "stock": _shop(state)["stock"][product_id]}


@tool("add_to_cart", stateful=True)
def add_to_cart(product_id: str, quantity: int, state: dict) -> dict:
    shop = _shop(state)
    _product(product_id)
    in_cart = sum(i["quantity"] for i in shop["cart"] if i["product_id"] == product_id)
    if in_cart + quantity > shop["stock"][product_id]:
        raise ToolError(409, f"only {shop['stock'][product_id] - in_cart} of '{product_id}' left in stock")
    shop["cart"].append({"product_id": product_id, "quantity": quantity})
    return view_cart(state)


@tool("view_cart", stateful=True)
def view_cart(state: dict) -> dict:
    items = [{**i, "unit_price_eur": _product(i["product_id"])["price_eur"]} for i in _shop(state)["cart"]]
    return {"items": items, "subtotal_eur": round(sum(i["quantity"] * i["unit_price_eur"] for i in items), 2)}


@tool("place_order", stateful=True)
def place_order(country_code: str, state: dict) -> dict:
    shop = _shop(state)
    if not shop["cart"]:
        raise ToolError(409, "the cart is empty; add products before ordering")
    subtotal = view_cart(state)["subtotal_eur"]
    total = add_vat(subtotal, country_code)["gross_amount"]
    order_id = f"ord_{shop['next_order']}"
    shop["next_order"] += 1
    for i in shop["cart"]:
        shop["stock"][i["product_id"]] -= i["quantity"]
    shop["orders"][order_id] = {
        "status": "processing",
        "items": shop["cart"],
        "country_code": country_code.upper(),
        "total_eur": total,
    }
    shop["cart"] = []
    return {"order_id": order_id, "status": "processing", "total_eur": total}


@tool("get_order_status", stateful=True)
def get_order_status(order_id: str, state: dict) -> dict:
    order = _shop(state)["orders"].get(order_id)
    if order is None:
        raise ToolError(404, f"no order with id '{order_id}'")
    return {"order_id": order_id, **order}


@tool("cancel_order", stateful=True)
def cancel_order(order_id: str, state: dict) -> dict:
    order = get_order_status(order_id, state)
    if order["status"] != "processing":
        raise ToolError(409, f"order {order_id} is {order['status']} and can no longer be cancelled")
    _shop(state)["orders"][order_id]["status"] = "cancelled"
    return {"order_id": order_id, "status": "cancelled", "refund_eur": order["total_eur"]}
