"""A stand-in for the lgpio module on a Raspberry Pi with one GPIO chip,
for tests on machines that have no GPIO chip (CI, a laptop, an arm64 root
under qemu): the functions gpiozero's LGPIOFactory calls for plain outputs
and inputs, with the chip's levels kept in memory and every write appended
to the file named by ASHYQ_STANDIN_GPIO_LOG ("GPIO23=0" lines).

Only tests put this folder on PYTHONPATH; it shadows a real lgpio there,
which could not open a chip on those machines anyway.
"""
import os

SET_PULL_NONE, SET_BIAS_PULL_UP, SET_BIAS_PULL_DOWN, SET_BIAS_DISABLE = 0, 32, 64, 128
SET_PULL_UP, SET_PULL_DOWN = SET_BIAS_PULL_UP, SET_BIAS_PULL_DOWN
RISING_EDGE, FALLING_EDGE, BOTH_EDGES = 1, 2, 3
_OUT, _LG_INPUT, _LG_OUTPUT = 1 << 1, 1 << 8, 1 << 9
_HANDLE = 7
_modes: dict = {}
_levels: dict = {}


class error(Exception):
    pass


def gpiochip_open(chip):
    if chip != 0 or not os.environ.get("ASHYQ_STANDIN_GPIO_LOG"):
        raise error(f"cannot open gpiochip{chip}")
    return _HANDLE


def gpiochip_close(handle):
    pass


def gpio_claim_input(handle, gpio, flags=0):
    _modes[gpio] = flags | _LG_INPUT


def gpio_claim_output(handle, gpio, level=0, flags=0):
    _modes[gpio] = flags | _OUT | _LG_OUTPUT
    gpio_write(handle, gpio, level)


def gpio_free(handle, gpio):
    _modes.pop(gpio, None)


def gpio_get_mode(handle, gpio):
    return _modes.get(gpio, _LG_INPUT)


def gpio_read(handle, gpio):
    return _levels.get(gpio, 0)


def gpio_write(handle, gpio, level):
    _levels[gpio] = int(bool(level))
    with open(os.environ["ASHYQ_STANDIN_GPIO_LOG"], "a") as log:
        log.write(f"GPIO{gpio}={_levels[gpio]}\n")
