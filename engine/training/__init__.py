"""Training: the loop (:mod:`.loop`), one batch's CD statistics (:mod:`.gradients`), the
validation split and scores (:mod:`.validation`), the P(like) calibration fit
(:mod:`.calibrate`) and data-parallel training under torchrun (:mod:`.distributed`)."""
