"""The Korean terms beside the English ones, for the glossary page and the concepts' headings.

``book`` is the term as the Korean edition of the book uses it (『밑바닥부터 시작하는 딥러닝』,
translated by 이복연, 한빛미디어, 2017) and ``where`` the chapter or section that introduces it;
``notes`` is the study notes' word where they use a different one (the notes are Korean blog
posts, some on CS231n and CS224d, and follow other translations in places). For the few concepts
the book does not cover and the notes name only in English, ``usual`` is the common Korean term.

Every term has an anchor on the glossary page (``glossary.html#term-loss-function``), and the
guide's pages link the first mention of a term to it: the Korean forms on both editions' pages,
the English ones on the English pages (:meth:`Term.forms`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_GROUP = {"ㄲ": "ㄱ", "ㄸ": "ㄷ", "ㅃ": "ㅂ", "ㅆ": "ㅅ", "ㅉ": "ㅈ"}  # a dictionary files ㄲ under ㄱ


@dataclass(frozen=True)
class Term:
    english: str
    book: str | None  # the Korean edition's term, or None where the book has none
    notes: str | None  # the study notes' term, where it differs from the book's
    usual: str | None  # the common Korean term, where neither the book nor the notes has one
    where: str | None  # the book's chapter or section
    concepts: tuple[str, ...]
    english_forms: tuple[str, ...] = ()  # how the English text writes it, where the name alone does not say
    korean_forms: tuple[str, ...] = ()  # how the Korean text writes it, likewise

    @property
    def korean(self) -> str:
        """The term to show: the book's, else the notes', else the usual one."""
        return self.book or self.notes or self.usual or ""

    @property
    def anchor(self) -> str:
        """``term-loss-function-cost-function``: the term's id on the glossary page."""
        name = re.split(r" \(|, ", self.english)[0].lower()
        return "term-" + "-".join(re.findall(r"[a-z0-9]+", name))

    def forms(self, language: str) -> list[str]:
        """The ways a page in ``language`` may write the term: the Korean ones (the book's, the
        notes', the usual, each split at '/' and ',' and with what its parentheses hold) and, for
        English pages, the English ones (the name before its parenthesis or comma)."""
        korean = list(self.korean_forms) or _split_forms(*(t for t in (self.book, self.notes, self.usual) if t))
        if language != "en":
            return korean
        english = list(self.english_forms) or _split_forms(re.split(r" \(|, ", self.english)[0])
        return korean + english

    def initial(self) -> str:
        """The initial consonant the Korean term is filed under (ㄱ, ㄴ, …), or '' when it begins
        with a letter that is not Hangul (ReLU 함수)."""
        first = self.korean[:1]
        if not first or not _HANGUL.match(first):
            return ""
        consonant = _INITIALS[(ord(first) - 0xAC00) // 588]
        return _GROUP.get(consonant, consonant)


def _split_forms(*names: str) -> list[str]:
    forms = []
    for name in names:
        inner = re.findall(r"\(([^()]*)\)", name)
        outer = re.sub(r"\s*\([^()]*\)", "", name)
        for part in re.split(r"\s*[/,]\s*", outer) + [p for i in inner for p in re.split(r"\s*/\s*", i)]:
            part = part.strip()
            if len(part) >= 2 and part not in forms:
                forms.append(part)
    return forms


def sorted_korean(terms) -> list[Term]:
    """The terms in 가나다 order of their Korean names, those beginning with Hangul first."""
    return sorted(terms, key=lambda t: (not t.initial(), t.korean.lower()))


def _t(english, book, notes=None, where=None, concepts="", usual=None, en=(), ko=()):
    return Term(english, book, notes, usual, where, tuple(c.strip() for c in concepts.split(",") if c.strip()),
                tuple(en), tuple(ko))


GLOSSARY: list[Term] = [
    _t("activation function", "활성화 함수", None, "ch. 3", "activations"),
    _t("step function", "계단 함수", None, "ch. 3", "activations"),
    _t("identity function", "항등 함수", None, "ch. 3", "activations, softmax"),
    _t("sigmoid function", "시그모이드 함수", None, "ch. 3", "activations"),
    _t("tanh (hyperbolic tangent)", "tanh 함수", "하이퍼볼릭탄젠트", "ch. 6", "activations, weight-init"),
    _t("ReLU (rectified linear unit)", "ReLU 함수", None, "ch. 3", "activations"),
    _t("softmax function", "소프트맥스 함수", None, "ch. 3", "softmax"),
    _t("overflow", "오버플로", "오버플로우", "ch. 3", "softmax"),
    _t("loss function / cost function", "손실 함수", "손실함수, 비용 함수", "4.2", "losses"),
    _t("sum of squares for error, ½Σ(y − t)² (the Korean edition names it mean squared error)", "평균 제곱 오차",
       "오차제곱합", "4.2.1", "losses"),
    _t("cross-entropy error (CEE)", "교차 엔트로피 오차", None, "4.2.2", "losses"),
    _t("one-hot encoding", "원-핫 인코딩", None, "ch. 3", "losses"),
    _t("mean loss over a batch", "평균 손실 함수", None, "4.2.3", "losses"),
    _t("outlier", None, "아웃라이어", None, "losses, linear-regression"),
    _t("accuracy", "정확도", None, "ch. 3", "losses, mlp-backprop"),
    _t("numerical differentiation", "수치 미분", None, "4.3", "numerical-gradient"),
    _t("central / forward difference", "중심 차분(중앙 차분) / 전방 차분", "중심차분", "4.3", "numerical-gradient",
       en=("central difference", "forward difference")),
    _t("rounding error", "반올림 오차", None, "4.3", "numerical-gradient"),
    _t("partial derivative", "편미분", None, "4.3.3", "numerical-gradient"),
    _t("gradient", "기울기", "그래디언트", "4.4", "numerical-gradient, gradient-descent"),
    _t("gradient check", "기울기 확인", None, "5.7.3", "numerical-gradient, mlp-backprop"),
    _t("gradient descent", "경사 하강법", "경사하강법", "4.4.1", "gradient-descent, linear-regression"),
    _t("learning rate", "학습률", None, "4.4.1", "gradient-descent, lr-schedules"),
    _t("hyperparameter", "하이퍼파라미터", None, "4.4.1", "gradient-descent, hyperparameter-search"),
    _t("parameter (weights and biases)", "매개변수", "파라미터", "ch. 4", "linear-regression"),
    _t("linear regression", None, None, None, "linear-regression", usual="선형 회귀"),
    _t("delta rule", None, None, None, "delta-rule", usual="델타 규칙"),
    _t("single-layer network", None, "단층 신경망", None, "delta-rule"),
    _t("multi-layer perceptron", "다층 퍼셉트론", None, "ch. 2", "xor-mlp"),
    _t("hidden layer", "은닉층", None, "ch. 3", "xor-mlp, mlp-backprop"),
    _t("epoch", "에폭", None, "ch. 4", "delta-rule, minibatch"),
    _t("backpropagation", "오차역전파법", "역전파", "ch. 5", "mlp-backprop"),
    _t("chain rule", "연쇄법칙", None, "ch. 5", "mlp-backprop"),
    _t("stochastic gradient descent (SGD)", "확률적 경사 하강법", None, "ch. 6", "minibatch, optimizers"),
    _t("mini-batch learning", "미니배치 학습", "미니 배치", "4.2.3", "minibatch", en=("mini-batch learning", "mini-batch")),
    _t("batch processing", "배치 처리", None, "ch. 3", "minibatch"),
    _t("initial weight values", "가중치의 초깃값", "초기값", "6.2", "weight-init"),
    _t("vanishing gradient", "기울기 소실", None, "6.2.2", "weight-init, activations, rnn"),
    _t("activation values (outputs of a hidden layer)", "활성화값", None, "6.2.2", "weight-init"),
    _t("limited representational power", "표현력 제한", None, "6.2.2", "weight-init"),
    _t("parameter update (optimization)", "매개변수 갱신", "최적화", "ch. 6", "optimizers"),
    _t("momentum", "모멘텀", None, "ch. 6", "optimizers"),
    _t("exponential moving average", "지수이동평균", None, "ch. 6", "optimizers"),
    _t("learning-rate decay", "학습률 감소", None, "ch. 6", "lr-schedules"),
    _t("overfitting", "오버피팅", "과적합", "ch. 6", "regularization, dropout, early-stopping"),
    _t("weight decay", "가중치 감소", None, "ch. 6", "regularization"),
    _t("dropout", "드롭아웃", None, "ch. 6", "dropout"),
    _t("early stopping", None, None, None, "early-stopping", usual="조기 종료"),
    _t("validation data", "검증 데이터", None, "ch. 6", "early-stopping, hyperparameter-search"),
    _t("batch normalization", "배치 정규화", "배치정규화", "ch. 6", "batchnorm"),
    _t("hyperparameter optimization", "하이퍼파라미터 최적화", None, "ch. 6", "hyperparameter-search"),
    _t("training data / test data", "훈련 데이터 / 시험 데이터", None, "ch. 4", "mlp-backprop, regularization",
       en=("training data", "test data", "training set", "test set")),
    _t("normalization (of the input pixels)", "정규화", None, "ch. 3", "mlp-backprop"),
    _t("multi-task learning", None, None, None, "multitask", usual="멀티태스크 학습"),
    _t("convolutional neural network (CNN)", "합성곱 신경망", None, "ch. 7", "convolution"),
    _t("fully connected layer", "완전연결 계층", None, "7.1", "convolution, mlp-backprop"),
    _t("convolution layer", "합성곱 계층", None, "7.2", "convolution"),
    _t("convolution operation", "합성곱 연산", None, "7.2.2", "convolution"),
    _t("feature map (input / output)", "특징 맵 (입력 특징 맵 / 출력 특징 맵)", None, "7.2.1", "convolution"),
    _t("filter (kernel)", "필터 (커널)", None, "7.2.2", "convolution"),
    _t("padding", "패딩", None, "7.2.3", "convolution"),
    _t("stride", "스트라이드", None, "7.2.4", "convolution"),
    _t("pooling layer", "풀링 계층", None, "7.3", "convolution"),
    _t("max pooling / average pooling", "최대 풀링 / 평균 풀링", None, "7.3", "convolution",
       en=("max pooling", "average pooling")),
    _t("im2col (laying windows out as rows)", "im2col (전개)", None, "7.4.2", "convolution", ko=("im2col",)),
    _t("receptive field", None, None, None, "convolution", usual="수용 영역"),
    _t("weight sharing", None, None, None, "convolution", usual="가중치 공유"),
    # beyond the book's first volume (the study notes name RNNs beside CNNs): the common Korean terms,
    # as the Korean edition of its second volume (『밑바닥부터 시작하는 딥러닝 2』) uses them
    _t("recurrent neural network (RNN)", None, None, None, "rnn", usual="순환 신경망"),
    _t("hidden state", None, None, None, "rnn", usual="은닉 상태"),
    _t("backpropagation through time (BPTT)", None, None, None, "rnn", usual="시간 방향 오차역전파법"),
    _t("truncated BPTT", None, None, None, "rnn", usual="잘라낸 BPTT (Truncated BPTT)"),
    _t("exploding gradient", None, None, None, "rnn", usual="기울기 폭발"),
    _t("gradient clipping", None, None, None, "rnn", usual="기울기 클리핑"),
    _t("LSTM (long short-term memory)", None, None, None, "rnn", usual="장단기 메모리"),
    _t("memory cell (of an LSTM)", None, None, None, "rnn", usual="기억 셀"),
    _t("gate (input, forget, output)", None, None, None, "rnn", usual="게이트 (입력·망각·출력 게이트)"),
    _t("GRU (gated recurrent unit)", None, None, None, "rnn", usual="게이트 순환 유닛"),
    _t("embedding", None, None, None, "rnn", usual="임베딩"),
    _t("language model", None, None, None, "rnn, transformer", usual="언어 모델"),
    # the second volume's chapter 8 and beyond (its Korean edition's terms where it has them)
    _t("attention", None, None, None, "attention", usual="어텐션"),
    _t("seq2seq (sequence to sequence)", None, None, None, "attention", usual="seq2seq (시퀀스 투 시퀀스)"),
    _t("scaled dot-product attention", None, None, None, "attention", usual="스케일드 점곱 어텐션"),
    _t("multi-head attention", None, None, None, "attention, transformer", usual="멀티헤드 어텐션"),
    _t("mask (causal, padding)", None, None, None, "attention, transformer", usual="마스크 (인과·패딩 마스크)"),
    _t("transformer", None, None, None, "transformer", usual="트랜스포머"),
    _t("layer normalization", None, None, None, "transformer", usual="층 정규화"),
    _t("positional encoding", None, None, None, "transformer", usual="위치 인코딩"),
    _t("residual connection", None, None, None, "transformer", usual="잔차 연결"),
]
