"""Test-only adapters around the HX711 driver."""


class PinValue:
    """A gpiozero pin seen as Blinka's ``DigitalInOut``: a ``.value`` to read
    and write. adafruit_hx711 wants its pins in this shape."""

    __slots__ = ("pin",)

    def __init__(self, pin):
        self.pin = pin

    @property
    def value(self) -> bool:
        return bool(self.pin.state)

    @value.setter
    def value(self, level) -> None:
        self.pin.state = bool(level)
